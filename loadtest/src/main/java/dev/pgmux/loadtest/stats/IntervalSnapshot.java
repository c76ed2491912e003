package dev.pgmux.loadtest.stats;

import java.util.Map;

/**
 * One tick of the run (normally one second): what completed in {@code [startSeconds, endSeconds)} since
 * the run's start, and the users at its end. Latencies are of the requests that completed in it.
 */
public record IntervalSnapshot(int index, double startSeconds, double endSeconds, boolean warmup,
                               UserCounts users, LatencyStats global, Map<String, LatencyStats> requests) {

    public double seconds() {
        return endSeconds - startSeconds;
    }

    /** Requests completed per second in this interval (global: transactions excluded). */
    public double requestsPerSecond() {
        return seconds() <= 0 ? 0 : global.count() / seconds();
    }

    public double errorsPerSecond() {
        return seconds() <= 0 ? 0 : global.errors() / seconds();
    }
}
