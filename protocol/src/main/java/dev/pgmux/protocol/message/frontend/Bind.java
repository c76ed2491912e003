package dev.pgmux.protocol.message.frontend;

/**
 * Bind ('B'): the portal and statement names. The parameters that follow are never decoded: a Bind whose
 * statement is renamed is rebuilt from a new header and a slice of the original's parameter bytes.
 */
public record Bind(String portal, String statement) implements FrontendMessage {
    public static final byte TAG = 'B';
}
