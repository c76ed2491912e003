package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.OpenInjection;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The intended start times of an open-model population, computed before the run: a pure function of the
 * injection steps (and a seed for randomized ones), so it can be checked exactly. Steps follow each other.
 */
public final class Schedule {
    /** More users than this in one population is almost certainly a typo (a rate in ms, an extra zero). */
    static final long MAX_USERS = 20_000_000;

    private Schedule() {}

    /** Start offsets in nanoseconds from the population's start, in ascending order. */
    public static long[] startOffsets(List<OpenInjection> steps, long seed) {
        long total = steps.stream().mapToLong(OpenInjection::userCount).sum();
        if (total > MAX_USERS) {
            throw new IllegalArgumentException("the injection starts " + total + " users, more than the limit of "
                    + MAX_USERS);
        }
        long[] out = new long[(int) total];
        int n = 0;
        long base = 0;
        SplittableRandom random = new SplittableRandom(seed);
        for (OpenInjection step : steps) {
            long d = step.duration().toNanos();
            switch (step) {
                case OpenInjection.AtOnce a -> {
                    for (int i = 0; i < a.users(); i++) {
                        out[n++] = base;
                    }
                }
                case OpenInjection.Ramp r -> {
                    for (int i = 0; i < r.users(); i++) {
                        out[n++] = base + Math.round((double) i * d / r.users());
                    }
                }
                case OpenInjection.ConstantRate c -> {
                    int users = (int) c.userCount();
                    int from = n;
                    for (int i = 0; i < users; i++) {
                        // evenly: the i-th at i/rate; randomized: a uniform instant in the step (sorted below),
                        // which is a Poisson process with exactly this many arrivals
                        double t = c.randomArrivals() ? random.nextDouble() * d : i * 1e9 / c.rate();
                        out[n++] = base + Math.min(d - 1, Math.round(t));
                    }
                    if (c.randomArrivals()) {
                        Arrays.sort(out, from, n);
                    }
                }
                case OpenInjection.RampRate r -> {
                    int users = (int) r.userCount();
                    double seconds = d / 1e9;
                    double arrivals = (r.from() + r.to()) / 2 * seconds;
                    int from = n;
                    for (int i = 0; i < users; i++) {
                        double count = r.randomArrivals() ? random.nextDouble() * arrivals : i;
                        double t = inverseCumulative(r.from(), r.to(), seconds, count);
                        out[n++] = base + Math.min(d - 1, Math.round(t * 1e9));
                    }
                    if (r.randomArrivals()) {
                        Arrays.sort(out, from, n);
                    }
                }
                case OpenInjection.NothingFor ignored -> {
                    // a gap
                }
            }
            base += d;
        }
        return out;
    }

    /**
     * The time t (seconds) at which {@code count} users have arrived when the rate goes linearly from
     * {@code a} to {@code b} per second over {@code d} seconds: the root of {@code a t + (b - a) t^2 / 2d = count}.
     */
    static double inverseCumulative(double a, double b, double d, double count) {
        double k = (b - a) / d;
        if (Math.abs(k) < 1e-12) {
            return a == 0 ? 0 : count / a;
        }
        double disc = a * a + 2 * k * count;
        return (-a + Math.sqrt(Math.max(0, disc))) / k;
    }
}
