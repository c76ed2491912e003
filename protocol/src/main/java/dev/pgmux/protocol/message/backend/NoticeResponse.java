package dev.pgmux.protocol.message.backend;

/** NoticeResponse ('N'). */
public record NoticeResponse(Notice notice) implements BackendMessage {
    public static final byte TAG = 'N';

    public static NoticeResponse warning(String sqlState, String message) {
        return new NoticeResponse(Notice.of("WARNING", sqlState, message));
    }
}
