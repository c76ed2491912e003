package dev.pgmux.protocol.message.frontend;

/** CancelRequest: sent on a new connection, names the backend by its BackendKeyData. */
public record CancelRequest(int processId, int secretKey) implements FrontendMessage {
    public static final int CODE = 80877102;

    @Override
    public String toString() {
        return "CancelRequest[processId=" + processId + "]";
    }
}
