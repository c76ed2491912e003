package dev.pgmux.protocol.message.frontend;

/** Sync ('S'). */
public enum Sync implements FrontendMessage {
    INSTANCE;
    public static final byte TAG = 'S';
}
