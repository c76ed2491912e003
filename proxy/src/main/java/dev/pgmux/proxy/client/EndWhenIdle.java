package dev.pgmux.proxy.client;

import dev.pgmux.protocol.message.backend.ErrorResponse;

/**
 * A pooling handler's part in a shutdown: it ends its client at the first moment the client is idle, so that
 * no transaction in flight is cut short. Idle is, in transaction mode, between transactions with nothing owed;
 * in session mode, its server's last ReadyForQuery said 'I' and nothing was sent since.
 */
public interface EndWhenIdle {
    /** Ends the client with {@code farewell} now if it is idle, else as soon as it is. On the client's event loop. */
    void endWhenIdle(ErrorResponse farewell);
}
