package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.Locale;

/**
 * Open-model injection: users arrive on a schedule whatever the system under test does, like requests
 * reaching a web tier. Steps of one population run one after the other.
 */
public sealed interface OpenInjection {

    /** How long this step lasts; the next step starts after it. */
    Duration duration();

    /** How many users the step starts. */
    long userCount();

    String describe();

    /** {@code users} at the same instant. */
    record AtOnce(int users) implements OpenInjection {
        public AtOnce {
            requireNonNegative(users, "atOnceUsers");
        }

        @Override
        public Duration duration() {
            return Duration.ZERO;
        }

        @Override
        public long userCount() {
            return users;
        }

        @Override
        public String describe() {
            return "atOnceUsers(" + users + ")";
        }
    }

    /** {@code users} evenly spread over {@code during}: the i-th starts at {@code i * during / users}. */
    record Ramp(int users, Duration during) implements OpenInjection {
        public Ramp {
            requireNonNegative(users, "rampUsers");
            requirePositive(during, "rampUsers");
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public long userCount() {
            return users;
        }

        @Override
        public String describe() {
            return "rampUsers(" + users + ").during(" + Durations.format(during) + ")";
        }
    }

    /**
     * {@code rate} users per second for {@code during}: evenly spaced, or with exponential gaps (a Poisson
     * process, as independent clients arrive) when randomized.
     */
    record ConstantRate(double rate, Duration during, boolean randomArrivals) implements OpenInjection {
        public ConstantRate {
            if (!(rate >= 0)) {
                throw new IllegalArgumentException("constantUsersPerSec needs a rate >= 0, got " + rate);
            }
            requirePositive(during, "constantUsersPerSec");
        }

        public ConstantRate randomized() {
            return new ConstantRate(rate, during, true);
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public long userCount() {
            return Math.round(rate * seconds(during));
        }

        @Override
        public String describe() {
            return "constantUsersPerSec(" + num(rate) + ").during(" + Durations.format(during) + ")"
                    + (randomArrivals ? ".randomized()" : "");
        }
    }

    /** An arrival rate changing linearly from {@code from} to {@code to} users per second over {@code during}. */
    record RampRate(double from, double to, Duration during, boolean randomArrivals) implements OpenInjection {
        public RampRate {
            if (!(from >= 0) || !(to >= 0)) {
                throw new IllegalArgumentException("rampUsersPerSec needs rates >= 0, got " + from + " and " + to);
            }
            requirePositive(during, "rampUsersPerSec");
        }

        public RampRate randomized() {
            return new RampRate(from, to, during, true);
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public long userCount() {
            return Math.round((from + to) / 2 * seconds(during));
        }

        @Override
        public String describe() {
            return "rampUsersPerSec(" + num(from) + ").to(" + num(to) + ").during(" + Durations.format(during) + ")"
                    + (randomArrivals ? ".randomized()" : "");
        }
    }

    /** A gap with no arrivals. */
    record NothingFor(Duration during) implements OpenInjection {
        public NothingFor {
            if (during.isNegative()) {
                throw new IllegalArgumentException("nothingFor needs a duration >= 0, got " + during);
            }
        }

        @Override
        public Duration duration() {
            return during;
        }

        @Override
        public long userCount() {
            return 0;
        }

        @Override
        public String describe() {
            return "nothingFor(" + Durations.format(during) + ")";
        }
    }

    /** {@code rampUsers(n)} waiting for its {@code during}. */
    record RampBuilder(int users) {
        public Ramp during(Duration d) {
            return new Ramp(users, d);
        }

        public Ramp during(long seconds) {
            return during(Duration.ofSeconds(seconds));
        }
    }

    /** {@code constantUsersPerSec(r)} waiting for its {@code during}. */
    record ConstantRateBuilder(double rate) {
        public ConstantRate during(Duration d) {
            return new ConstantRate(rate, d, false);
        }

        public ConstantRate during(long seconds) {
            return during(Duration.ofSeconds(seconds));
        }
    }

    /** {@code rampUsersPerSec(a)} waiting for its {@code to} and {@code during}. */
    record RampRateBuilder(double from, double to) {
        public RampRateBuilder to(double rate) {
            return new RampRateBuilder(from, rate);
        }

        public RampRate during(Duration d) {
            return new RampRate(from, to, d, false);
        }

        public RampRate during(long seconds) {
            return during(Duration.ofSeconds(seconds));
        }
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }

    private static void requireNonNegative(int users, String what) {
        if (users < 0) {
            throw new IllegalArgumentException(what + " needs users >= 0, got " + users);
        }
    }

    private static void requirePositive(Duration d, String what) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " needs a duration > 0, got " + d);
        }
    }
}
