package dev.pgmux.protocol.message.frontend;

/** PasswordMessage: a cleartext or MD5-hashed password. Never printed. */
public record PasswordMessage(String password) implements FrontendMessage {
    @Override
    public String toString() {
        return "PasswordMessage[***]";
    }
}
