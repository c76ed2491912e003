package dev.pgmux.loadtest.scenarios;

import java.sql.SQLException;

/**
 * A statement of a built-in scenario answered, but not what the schema implies (a row missing, a value that
 * cannot be). Recorded as a failed request like any SQL error, under the message {@code wrong result: ...};
 * it has no SQLSTATE, and the connection stays usable (a transaction it happens in is rolled back).
 */
public final class WrongResultException extends SQLException {
    public WrongResultException(String what) {
        super("wrong result: " + what);
    }
}
