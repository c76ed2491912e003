package dev.pgmux.loadtest.dsl;

import java.util.Objects;

/**
 * A condition on the measured figures, checked at the end of a run; a failed one makes the command exit
 * non-zero. Response times are in milliseconds, the error rate in percent of requests, throughput in
 * requests per second.
 */
public record Assertion(Scope scope, Metric metric, Comparison comparison, double threshold) {

    public Assertion {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(comparison, "comparison");
    }

    /** Which requests an assertion is about. */
    public sealed interface Scope {
        String describe();
    }

    /** Every request except transactions (their statements count instead). */
    public record Global() implements Scope {
        @Override
        public String describe() {
            return "global";
        }
    }

    /** The requests of one name. */
    public record Request(String name) implements Scope {
        @Override
        public String describe() {
            return "\"" + name + "\"";
        }
    }

    /** Each request name on its own. */
    public record ForAll() implements Scope {
        @Override
        public String describe() {
            return "each request";
        }
    }

    public enum Metric {
        MIN("min", "ms"), MEAN("mean", "ms"), P50("p50", "ms"), P75("p75", "ms"), P95("p95", "ms"),
        P99("p99", "ms"), P999("p99.9", "ms"), MAX("max", "ms"),
        ERROR_PERCENT("errors", "%"), REQUESTS_PER_SEC("throughput", "req/s");

        private final String label;
        private final String unit;

        Metric(String label, String unit) {
            this.label = label;
            this.unit = unit;
        }

        public String label() {
            return label;
        }

        public String unit() {
            return unit;
        }

        public boolean isResponseTime() {
            return unit.equals("ms");
        }

        /** The metric for a percentile the reports keep: 50, 75, 95, 99 or 99.9. */
        public static Metric percentile(double p) {
            if (p == 50) return P50;
            if (p == 75) return P75;
            if (p == 95) return P95;
            if (p == 99) return P99;
            if (p == 99.9) return P999;
            throw new IllegalArgumentException("percentile must be one of 50, 75, 95, 99, 99.9, got " + p);
        }
    }

    public enum Comparison {
        LT("<"), LTE("<="), GT(">"), GTE(">=");

        private final String symbol;

        Comparison(String symbol) {
            this.symbol = symbol;
        }

        public String symbol() {
            return symbol;
        }

        public boolean test(double actual, double threshold) {
            return switch (this) {
                case LT -> actual < threshold;
                case LTE -> actual <= threshold;
                case GT -> actual > threshold;
                case GTE -> actual >= threshold;
            };
        }
    }

    /** E.g. {@code global p99 < 50 ms}. */
    public String describe() {
        return scope.describe() + " " + metric.label() + " " + comparison.symbol() + " " + number(threshold)
                + (metric.unit().equals("%") ? "%" : " " + metric.unit());
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    // ---- the fluent builders behind Dsl.global(), Dsl.details(name), Dsl.forAll() ----

    public record ScopeBuilder(Scope scope) {
        public ResponseTimeBuilder responseTime() {
            return new ResponseTimeBuilder(scope);
        }

        public FailedRequestsBuilder failedRequests() {
            return new FailedRequestsBuilder(scope);
        }

        public ThresholdBuilder requestsPerSec() {
            return new ThresholdBuilder(scope, Metric.REQUESTS_PER_SEC);
        }
    }

    public record ResponseTimeBuilder(Scope scope) {
        public ThresholdBuilder min() {
            return new ThresholdBuilder(scope, Metric.MIN);
        }

        public ThresholdBuilder mean() {
            return new ThresholdBuilder(scope, Metric.MEAN);
        }

        public ThresholdBuilder max() {
            return new ThresholdBuilder(scope, Metric.MAX);
        }

        public ThresholdBuilder percentile(double p) {
            return new ThresholdBuilder(scope, Metric.percentile(p));
        }

        public ThresholdBuilder p50() {
            return new ThresholdBuilder(scope, Metric.P50);
        }

        public ThresholdBuilder p95() {
            return new ThresholdBuilder(scope, Metric.P95);
        }

        public ThresholdBuilder p99() {
            return new ThresholdBuilder(scope, Metric.P99);
        }
    }

    public record FailedRequestsBuilder(Scope scope) {
        public ThresholdBuilder percent() {
            return new ThresholdBuilder(scope, Metric.ERROR_PERCENT);
        }
    }

    public record ThresholdBuilder(Scope scope, Metric metric) {
        public Assertion lt(double v) {
            return new Assertion(scope, metric, Comparison.LT, v);
        }

        public Assertion lte(double v) {
            return new Assertion(scope, metric, Comparison.LTE, v);
        }

        public Assertion gt(double v) {
            return new Assertion(scope, metric, Comparison.GT, v);
        }

        public Assertion gte(double v) {
            return new Assertion(scope, metric, Comparison.GTE, v);
        }
    }
}
