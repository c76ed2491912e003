package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.backend.ErrorResponse;

/**
 * Connecting or logging in to an upstream server failed. When the server itself refused (for example
 * {@code database "x" does not exist}), {@link #serverError()} holds its ErrorResponse so the client
 * sees the same error it would have seen connecting directly.
 */
public final class UpstreamException extends Exception {
    private final ErrorResponse serverError;

    public UpstreamException(String message, Throwable cause) {
        super(message, cause, false, false);
        this.serverError = null;
    }

    public UpstreamException(ErrorResponse serverError) {
        super(serverError.code() + " " + serverError.message(), null, false, false);
        this.serverError = serverError;
    }

    public ErrorResponse serverError() {
        return serverError;
    }
}
