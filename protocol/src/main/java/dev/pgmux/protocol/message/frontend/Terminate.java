package dev.pgmux.protocol.message.frontend;

/** Terminate ('X'). */
public enum Terminate implements FrontendMessage {
    INSTANCE;
    public static final byte TAG = 'X';
}
