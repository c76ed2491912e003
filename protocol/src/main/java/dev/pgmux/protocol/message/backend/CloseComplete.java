package dev.pgmux.protocol.message.backend;

/** CloseComplete ('3'). */
public enum CloseComplete implements BackendMessage {
    INSTANCE;
    public static final byte TAG = '3';
}
