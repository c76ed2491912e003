package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RequestSummary;
import dev.pgmux.loadtest.stats.RunStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Checks assertions against a run's totals. */
public final class AssertionChecker {
    private AssertionChecker() {}

    public static List<AssertionResult> check(List<Assertion> assertions, RunStats stats) {
        List<AssertionResult> results = new ArrayList<>();
        for (Assertion a : assertions) {
            switch (a.scope()) {
                case Assertion.Global g -> results.add(result(a, a.describe(),
                        Optional.of(value(a.metric(), stats.global(), stats.globalRequestsPerSecond()))));
                case Assertion.Request r -> results.add(result(a, a.describe(),
                        stats.request(r.name()).map(s -> value(a.metric(), s.stats(), s.requestsPerSecond()))));
                case Assertion.ForAll f -> {
                    for (RequestSummary s : stats.requests()) {
                        String description = a.describe().replaceFirst("^each request", "\"" + s.name() + "\"");
                        results.add(result(a, description,
                                Optional.of(value(a.metric(), s.stats(), s.requestsPerSecond()))));
                    }
                }
            }
        }
        return List.copyOf(results);
    }

    /** A request that never ran fails its assertions: silence is not a pass. */
    private static AssertionResult result(Assertion a, String description, Optional<Double> actual) {
        if (actual.isEmpty() || Double.isNaN(actual.get())) {
            return new AssertionResult(a, description + " (no such requests were measured)", Double.NaN, false);
        }
        double v = actual.get();
        return new AssertionResult(a, description, v, a.comparison().test(v, a.threshold()));
    }

    static double value(Assertion.Metric metric, LatencyStats s, double rps) {
        if (s.count() == 0 && metric != Assertion.Metric.REQUESTS_PER_SEC) {
            return Double.NaN;
        }
        return switch (metric) {
            case MIN -> s.min();
            case MEAN -> s.mean();
            case P50 -> s.p50();
            case P75 -> s.p75();
            case P95 -> s.p95();
            case P99 -> s.p99();
            case P999 -> s.p999();
            case MAX -> s.max();
            case ERROR_PERCENT -> s.errorPercent();
            case REQUESTS_PER_SEC -> rps;
        };
    }
}
