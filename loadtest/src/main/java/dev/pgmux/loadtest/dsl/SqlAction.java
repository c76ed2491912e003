package dev.pgmux.loadtest.dsl;

import java.sql.Connection;
import java.sql.SQLException;

/** Code of your own run as a timed request; {@code connection} is null when the user has not connected. */
@FunctionalInterface
public interface SqlAction {
    void run(Connection connection, Session session) throws SQLException;
}
