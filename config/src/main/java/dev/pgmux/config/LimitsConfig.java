package dev.pgmux.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds that protect pgmux from clients and servers that send too much or take too long.
 *
 * @param maxFrameSize         largest protocol message accepted from a client or a server, in bytes
 * @param maxStartupPacketSize largest startup packet accepted from a client, in bytes
 * @param loginTimeout         from connect to authenticated and ready
 */
public record LimitsConfig(int maxFrameSize, int maxStartupPacketSize, Duration loginTimeout) {

    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
    /** As in Postgres ({@code MAX_STARTUP_PACKET_LENGTH}). */
    public static final int DEFAULT_MAX_STARTUP_PACKET_SIZE = 10_000;
    public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(10);

    /** Upper bound for {@code max_frame_size}: Postgres itself refuses larger messages. */
    public static final int MAX_FRAME_SIZE_LIMIT = 1024 * 1024 * 1024;
    public static final int MAX_STARTUP_PACKET_SIZE_LIMIT = 1024 * 1024;
    /** Smallest size that still holds a message header. */
    public static final int MIN_SIZE = 8;

    public LimitsConfig {
        Objects.requireNonNull(loginTimeout, "loginTimeout");
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_STARTUP_PACKET_SIZE, DEFAULT_LOGIN_TIMEOUT);
    }

    public LimitsConfig withMaxFrameSize(int bytes) {
        return new LimitsConfig(bytes, maxStartupPacketSize, loginTimeout);
    }

    public LimitsConfig withMaxStartupPacketSize(int bytes) {
        return new LimitsConfig(maxFrameSize, bytes, loginTimeout);
    }

    public LimitsConfig withLoginTimeout(Duration timeout) {
        return new LimitsConfig(maxFrameSize, maxStartupPacketSize, timeout);
    }
}
