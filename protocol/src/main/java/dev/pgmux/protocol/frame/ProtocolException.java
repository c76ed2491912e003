package dev.pgmux.protocol.frame;

import dev.pgmux.protocol.SqlState;

/** Input that breaks the wire protocol. The connection that sent it is answered with an error and closed. */
public final class ProtocolException extends RuntimeException {
    private final String sqlState;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
