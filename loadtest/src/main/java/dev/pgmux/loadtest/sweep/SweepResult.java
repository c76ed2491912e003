package dev.pgmux.loadtest.sweep;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A finished sweep: every point, the recommendation per pgmux target, and the settings that shaped it.
 *
 * @param configuration ordered key/value pairs for the report
 * @param pgmuxPoints   how pgmux points got their pgmux; null when no target was pgmux
 */
public record SweepResult(String name, String simulation, Instant startedAt, double elapsedSeconds, String upstream,
                          List<String> targets, List<Integer> poolSizes, double marginPercent, List<String> assertions,
                          Map<String, String> configuration, List<SweepPoint> points, List<Recommendation> recommendations,
                          List<String> warnings, PgmuxPoints pgmuxPoints) {

    public List<SweepPoint> pointsOf(String target) {
        return points.stream().filter(p -> p.target().equals(target)).toList();
    }

    /** The pgmux processes that served the points, by pid, in the order they first served one. */
    public List<Long> pgmuxPids() {
        return points.stream().filter(p -> p.pgmux() != null).map(p -> p.pgmux().pid()).distinct().toList();
    }

    /** Passed when every pgmux target got a recommendation. */
    public boolean passed() {
        return recommendations.stream().allMatch(Recommendation::found);
    }
}
