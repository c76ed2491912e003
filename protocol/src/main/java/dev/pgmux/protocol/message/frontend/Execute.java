package dev.pgmux.protocol.message.frontend;

/** Execute ('E') of a portal, returning at most {@code maxRows} rows (0 = all). */
public record Execute(String portal, int maxRows) implements FrontendMessage {
    public static final byte TAG = 'E';
}
