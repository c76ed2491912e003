package dev.pgmux.protocol.message.frontend;

/** SASLResponse: a later client message of the SASL exchange. */
public record SaslResponse(byte[] data) implements FrontendMessage {
    @Override
    public String toString() {
        return "SaslResponse[***]";
    }
}
