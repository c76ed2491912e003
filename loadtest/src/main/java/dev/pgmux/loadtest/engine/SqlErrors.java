package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.stats.ErrorKey;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.regex.Pattern;

/** Turns failures into report rows (SQLSTATE + message) and decides whether the connection survived them. */
final class SqlErrors {
    // HikariCP appends its pool counters to timeout messages; they would make one row per combination.
    private static final Pattern HIKARI_COUNTS = Pattern.compile("\\s*\\(total=\\d+, active=\\d+, idle=\\d+, waiting=\\d+\\)");

    private SqlErrors() {}

    static ErrorKey key(Throwable t) {
        if (t instanceof PSQLException p && p.getServerErrorMessage() != null) {
            ServerErrorMessage m = p.getServerErrorMessage();
            return new ErrorKey(m.getSQLState() != null ? m.getSQLState() : p.getSQLState(), nonNull(m.getMessage(), p));
        }
        if (t instanceof SQLException s) {
            String message = HIKARI_COUNTS.matcher(nonNull(s.getMessage(), s)).replaceAll("");
            return new ErrorKey(s.getSQLState(), message);
        }
        String message = t.getMessage();
        return new ErrorKey(null, t.getClass().getSimpleName() + (message == null ? "" : ": " + message));
    }

    /** True when the connection cannot be used any more: SQLSTATE class 08, or the driver closed it. */
    static boolean connectionLost(Throwable t, Connection connection) {
        if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
            return true;
        }
        try {
            return connection == null || connection.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    private static String nonNull(String message, Throwable t) {
        return message != null ? message : t.getClass().getSimpleName();
    }
}
