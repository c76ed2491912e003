package dev.pgmux.protocol.message.frontend;

/**
 * A CancelRequest one pgmux instance passes to another (pgmux's own startup code, beside the CancelRequest's
 * 80877102): the receiver cancels only what it holds itself and passes it on to nobody, so a key that no
 * instance holds goes round at most once.
 */
public record PeerCancelRequest(int processId, int secretKey) implements FrontendMessage {
    public static final int CODE = 80877101;

    @Override
    public String toString() {
        return "PeerCancelRequest[processId=" + processId + "]";
    }
}
