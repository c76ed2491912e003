package dev.pgmux.loadtest.stats;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.TimeUnit;

/** Latencies are kept in microseconds, up to one hour, with three significant digits (0.1 % error). */
public final class Latency {
    public static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);
    public static final int SIGNIFICANT_DIGITS = 3;

    private Latency() {}

    public static Histogram histogram() {
        return new Histogram(HIGHEST_MICROS, SIGNIFICANT_DIGITS);
    }

    public static Recorder recorder() {
        return new Recorder(HIGHEST_MICROS, SIGNIFICANT_DIGITS);
    }

    /** Nanoseconds to recordable microseconds: negative becomes 0, beyond an hour becomes an hour. */
    public static long micros(long nanos) {
        return Math.max(0, Math.min(HIGHEST_MICROS, nanos / 1000));
    }
}
