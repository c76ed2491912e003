package dev.pgmux.protocol.message.frontend;

/** Describe ('D') of a statement ({@code 'S'}) or a portal ({@code 'P'}). */
public record Describe(byte kind, String name) implements FrontendMessage {
    public static final byte TAG = 'D';
    public static final byte STATEMENT = 'S';
    public static final byte PORTAL = 'P';

    public boolean isStatement() {
        return kind == STATEMENT;
    }
}
