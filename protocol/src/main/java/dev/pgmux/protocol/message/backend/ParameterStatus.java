package dev.pgmux.protocol.message.backend;

/** ParameterStatus ('S'): the server reports the current value of a run-time parameter. */
public record ParameterStatus(String name, String value) implements BackendMessage {
    public static final byte TAG = 'S';
}
