package dev.pgmux.protocol.frame;

import dev.pgmux.protocol.SqlState;

/**
 * Input that breaks the wire protocol. The connection that sent it is answered with an error and closed,
 * or, where Postgres only logs the problem and hangs up (a startup packet of an impossible length), just
 * closed.
 */
public final class ProtocolException extends RuntimeException {
    private final String sqlState;
    private final boolean silent;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String sqlState, String message) {
        this(sqlState, message, false);
    }

    private ProtocolException(String sqlState, String message, boolean silent) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.silent = silent;
    }

    /** A violation Postgres answers by closing the connection without a word (its message is only logged). */
    public static ProtocolException closeSilently(String message) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, message, true);
    }

    /** Whether the connection is closed without an ErrorResponse. */
    public boolean silent() {
        return silent;
    }

    public String sqlState() {
        return sqlState;
    }
}
