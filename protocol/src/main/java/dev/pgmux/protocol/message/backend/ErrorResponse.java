package dev.pgmux.protocol.message.backend;

/** ErrorResponse ('E'). */
public record ErrorResponse(Notice notice) implements BackendMessage {
    public static final byte TAG = 'E';

    public static ErrorResponse error(String sqlState, String message) {
        return new ErrorResponse(Notice.of("ERROR", sqlState, message));
    }

    /** An error after which pgmux closes the connection. */
    public static ErrorResponse fatal(String sqlState, String message) {
        return new ErrorResponse(Notice.of("FATAL", sqlState, message));
    }

    public String code() {
        return notice.code();
    }

    public String message() {
        return notice.message();
    }

    public boolean isFatal() {
        String severity = notice.severity();
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }
}
