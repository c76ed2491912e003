package dev.pgmux.loadtest.stats;

/** The measured figures of one request name over the whole measured window. */
public record RequestSummary(String name, RequestKind kind, LatencyStats stats, double requestsPerSecond) {
}
