package dev.pgmux.protocol.message.backend;

/** BackendKeyData ('K'): the key a client must quote to cancel its queries. */
public record BackendKeyData(int processId, int secretKey) implements BackendMessage {
    public static final byte TAG = 'K';

    @Override
    public String toString() {
        return "BackendKeyData[processId=" + processId + "]";
    }
}
