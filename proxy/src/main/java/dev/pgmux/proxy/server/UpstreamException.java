package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.backend.ErrorResponse;

/**
 * Connecting or logging in to an upstream server failed. When the server itself refused (for example
 * {@code database "x" does not exist}), {@link #serverError()} holds its ErrorResponse so the client
 * sees the same error it would have seen connecting directly. Otherwise pgmux words it: the server could
 * not be reached, or it was reached and pgmux could not complete the login (TLS, or credentials that cannot
 * answer what the server asks), and the client is told which ({@link #forClient}).
 */
public final class UpstreamException extends Exception {
    private final ErrorResponse serverError;
    /** The server answered, and the login failed on pgmux's side: TLS or authentication. */
    private final boolean reached;

    public UpstreamException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private UpstreamException(String message, Throwable cause, boolean reached) {
        super(message, cause, false, false);
        this.serverError = null;
        this.reached = reached;
    }

    public UpstreamException(ErrorResponse serverError) {
        super(serverError.code() + " " + serverError.message(), null, false, false);
        this.serverError = serverError;
        this.reached = true;
    }

    /** The server was reached, but pgmux could not log in: a TLS failure, or credentials that cannot answer. */
    public static UpstreamException loginFailed(String message, Throwable cause) {
        return new UpstreamException(message, cause, true);
    }

    public ErrorResponse serverError() {
        return serverError;
    }

    /**
     * What a client is told (SQLSTATE 08006) when a server could not be had for it, unless the server's own
     * error is passed on: {@code server login failed: ...} or {@code server unreachable: ...}.
     */
    public static String forClient(Throwable cause) {
        return (reached(cause) ? "server login failed: " : "server unreachable: ") + cause.getMessage();
    }

    /** Whether the server was reached and the login failed, rather than the server not reached at all. */
    public static boolean reached(Throwable cause) {
        return cause instanceof UpstreamException e && e.reached;
    }
}
