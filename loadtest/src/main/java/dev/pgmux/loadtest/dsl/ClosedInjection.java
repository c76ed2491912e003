package dev.pgmux.loadtest.dsl;

import java.time.Duration;

/**
 * Closed-model injection: a number of users is kept running; when one finishes its scenario another starts,
 * like a fixed set of pgbench clients or worker threads. Steps of one population run one after the other.
 */
public sealed interface ClosedInjection {

    Duration duration();

    /** The number of concurrent users wanted {@code offsetNanos} after this step began. */
    int target(long offsetNanos);

    String describe();

    record Constant(int users, Duration during) implements ClosedInjection {
        public Constant {
            if (users < 0) {
                throw new IllegalArgumentException("constantConcurrentUsers needs users >= 0, got " + users);
            }
            if (during.isNegative() || during.isZero()) {
                throw new IllegalArgumentException("constantConcurrentUsers needs a duration > 0, got " + during);
            }
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public int target(long offsetNanos) {
            return users;
        }

        @Override
        public String describe() {
            return "constantConcurrentUsers(" + users + ").during(" + Durations.format(during) + ")";
        }
    }

    /** From {@code from} to {@code to} concurrent users, changing linearly over {@code during}. */
    record Ramp(int from, int to, Duration during) implements ClosedInjection {
        public Ramp {
            if (from < 0 || to < 0) {
                throw new IllegalArgumentException("rampConcurrentUsers needs users >= 0, got " + from + " and " + to);
            }
            if (during.isNegative() || during.isZero()) {
                throw new IllegalArgumentException("rampConcurrentUsers needs a duration > 0, got " + during);
            }
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public int target(long offsetNanos) {
            double f = Math.min(1.0, Math.max(0.0, offsetNanos / (double) during.toNanos()));
            return (int) Math.round(from + (to - from) * f);
        }

        @Override
        public String describe() {
            return "rampConcurrentUsers(" + from + ").to(" + to + ").during(" + Durations.format(during) + ")";
        }
    }

    record ConstantBuilder(int users) {
        public Constant during(Duration d) {
            return new Constant(users, d);
        }

        public Constant during(long seconds) {
            return during(Duration.ofSeconds(seconds));
        }
    }

    record RampBuilder(int from, int to) {
        public RampBuilder to(int users) {
            return new RampBuilder(from, users);
        }

        public Ramp during(Duration d) {
            return new Ramp(from, to, d);
        }

        public Ramp during(long seconds) {
            return during(Duration.ofSeconds(seconds));
        }
    }
}
