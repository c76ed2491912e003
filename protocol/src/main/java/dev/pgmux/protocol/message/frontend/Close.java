package dev.pgmux.protocol.message.frontend;

/** Close ('C') of a statement ({@code 'S'}) or a portal ({@code 'P'}). */
public record Close(byte kind, String name) implements FrontendMessage {
    public static final byte TAG = 'C';
    public static final byte STATEMENT = 'S';
    public static final byte PORTAL = 'P';

    public boolean isStatement() {
        return kind == STATEMENT;
    }
}
