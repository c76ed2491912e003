package dev.pgmux.protocol.message.backend;

/** ParseComplete ('1'). */
public enum ParseComplete implements BackendMessage {
    INSTANCE;
    public static final byte TAG = '1';
}
