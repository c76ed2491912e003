package dev.pgmux.protocol.message.frontend;

/** Flush ('H'). */
public enum Flush implements FrontendMessage {
    INSTANCE;
    public static final byte TAG = 'H';
}
