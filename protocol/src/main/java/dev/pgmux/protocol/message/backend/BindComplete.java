package dev.pgmux.protocol.message.backend;

/** BindComplete ('2'). */
public enum BindComplete implements BackendMessage {
    INSTANCE;
    public static final byte TAG = '2';
}
