package dev.pgmux.protocol.message.frontend;

/** SSLRequest: the client asks to switch to TLS before the StartupMessage. */
public enum SslRequest implements FrontendMessage {
    INSTANCE;
    public static final int CODE = 80877103;
}
