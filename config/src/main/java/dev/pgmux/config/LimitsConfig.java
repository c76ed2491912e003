package dev.pgmux.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds that protect pgmux from clients and servers that send too much or take too long.
 *
 * @param maxFrameSize         largest protocol message accepted from a client or a server, in bytes
 * @param maxStartupPacketSize largest startup packet accepted from a client, in bytes
 * @param loginTimeout         from connect to authenticated and ready
 * @param serverKeepalive      TCP keepalive of server connections: how soon a silent upstream (a host or
 *                             network gone without a reset) is noticed
 * @param shutdownTimeout      how long a shutdown (SIGTERM, the console's SHUTDOWN WAIT_FOR_*) waits for the
 *                             transactions in flight before it ends their clients anyway; zero: not at all
 */
public record LimitsConfig(int maxFrameSize, int maxStartupPacketSize, Duration loginTimeout, Keepalive serverKeepalive,
                           Duration shutdownTimeout) {

    /**
     * TCP keepalive probes: the first after {@code idle} without traffic, then every {@code interval}; the
     * connection is dropped after {@code count} unanswered probes. {@code idle} zero leaves all three to the
     * operating system (Linux: two hours, 75 s, 9).
     */
    public record Keepalive(Duration idle, Duration interval, int count) {
        public static final Keepalive DEFAULT = new Keepalive(Duration.ofSeconds(60), Duration.ofSeconds(10), 6);

        public Keepalive {
            Objects.requireNonNull(idle, "idle");
            Objects.requireNonNull(interval, "interval");
        }

        /** Whether pgmux sets the probes itself rather than leaving them to the operating system. */
        public boolean configured() {
            return !idle.isZero();
        }
    }

    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
    /** As in Postgres ({@code MAX_STARTUP_PACKET_LENGTH}). */
    public static final int DEFAULT_MAX_STARTUP_PACKET_SIZE = 10_000;
    public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    /** Upper bound for {@code max_frame_size}: Postgres itself refuses larger messages. */
    public static final int MAX_FRAME_SIZE_LIMIT = 1024 * 1024 * 1024;
    public static final int MAX_STARTUP_PACKET_SIZE_LIMIT = 1024 * 1024;
    /** Smallest size that still holds a message header. */
    public static final int MIN_SIZE = 8;

    public LimitsConfig {
        Objects.requireNonNull(loginTimeout, "loginTimeout");
        Objects.requireNonNull(serverKeepalive, "serverKeepalive");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    }

    public LimitsConfig(int maxFrameSize, int maxStartupPacketSize, Duration loginTimeout, Keepalive serverKeepalive) {
        this(maxFrameSize, maxStartupPacketSize, loginTimeout, serverKeepalive, DEFAULT_SHUTDOWN_TIMEOUT);
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_STARTUP_PACKET_SIZE, DEFAULT_LOGIN_TIMEOUT,
                Keepalive.DEFAULT, DEFAULT_SHUTDOWN_TIMEOUT);
    }

    public LimitsConfig withMaxFrameSize(int bytes) {
        return new LimitsConfig(bytes, maxStartupPacketSize, loginTimeout, serverKeepalive, shutdownTimeout);
    }

    public LimitsConfig withMaxStartupPacketSize(int bytes) {
        return new LimitsConfig(maxFrameSize, bytes, loginTimeout, serverKeepalive, shutdownTimeout);
    }

    public LimitsConfig withLoginTimeout(Duration timeout) {
        return new LimitsConfig(maxFrameSize, maxStartupPacketSize, timeout, serverKeepalive, shutdownTimeout);
    }

    public LimitsConfig withServerKeepalive(Keepalive keepalive) {
        return new LimitsConfig(maxFrameSize, maxStartupPacketSize, loginTimeout, keepalive, shutdownTimeout);
    }

    public LimitsConfig withShutdownTimeout(Duration timeout) {
        return new LimitsConfig(maxFrameSize, maxStartupPacketSize, loginTimeout, serverKeepalive, timeout);
    }
}
