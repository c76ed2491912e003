package dev.pgmux.protocol.message.frontend;

/** SASLInitialResponse: the chosen mechanism and the client-first-message (null data is sent as length -1). */
public record SaslInitialResponse(String mechanism, byte[] data) implements FrontendMessage {
    @Override
    public String toString() {
        return "SaslInitialResponse[" + mechanism + "]";
    }
}
