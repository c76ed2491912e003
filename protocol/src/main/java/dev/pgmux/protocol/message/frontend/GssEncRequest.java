package dev.pgmux.protocol.message.frontend;

/** GSSENCRequest: the client asks for GSSAPI encryption, which pgmux always declines with 'N'. */
public enum GssEncRequest implements FrontendMessage {
    INSTANCE;
    public static final int CODE = 80877104;
}
