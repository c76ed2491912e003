package dev.pgmux.loadtest.stats;

import java.util.List;
import java.util.Optional;

/**
 * Everything measured in a run. {@code global} covers every request except transactions (whose statements
 * are counted on their own); {@code measuredSeconds} runs from the end of the warm-up to the last completed
 * request and is the denominator of every rate.
 */
public record RunStats(LatencyStats global, double measuredSeconds, double globalRequestsPerSecond,
                       List<RequestSummary> requests, List<ErrorSummary> errors, List<IntervalSnapshot> intervals,
                       List<Distribution.Bucket> distribution, List<Distribution.PercentilePoint> percentiles) {

    public Optional<RequestSummary> request(String name) {
        return requests.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** Requests per second that succeeded. */
    public double okRequestsPerSecond() {
        return measuredSeconds <= 0 ? 0 : global.ok() / measuredSeconds;
    }
}
