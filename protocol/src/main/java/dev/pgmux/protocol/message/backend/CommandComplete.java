package dev.pgmux.protocol.message.backend;

/** CommandComplete ('C') with its command tag, such as {@code SELECT 1} or {@code DEALLOCATE}. */
public record CommandComplete(String tag) implements BackendMessage {
    public static final byte TAG = 'C';
}
