package dev.pgmux.protocol.message.frontend;

/** Query: a simple-protocol query string, possibly several statements. */
public record Query(String sql) implements FrontendMessage {
    public static final byte TAG = 'Q';
}
