package dev.pgmux.loadtest.stats;

import org.HdrHistogram.Histogram;

/**
 * Counts and latency figures of a set of requests, in milliseconds. Percentiles include failed requests:
 * a request that timed out kept its user waiting as long as its latency says.
 */
public record LatencyStats(long count, long errors, double min, double mean, double p50, double p75, double p95,
                           double p99, double p999, double max, double stdDev) {

    public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Figures of a histogram of microseconds, with {@code errors} of its values from failed requests. */
    public static LatencyStats of(Histogram micros, long errors) {
        long count = micros.getTotalCount();
        if (count == 0) {
            return new LatencyStats(0, errors, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
        return new LatencyStats(count, errors,
                ms(micros.getMinValue()), micros.getMean() / 1000.0,
                ms(micros.getValueAtPercentile(50)), ms(micros.getValueAtPercentile(75)),
                ms(micros.getValueAtPercentile(95)), ms(micros.getValueAtPercentile(99)),
                ms(micros.getValueAtPercentile(99.9)), ms(micros.getMaxValue()),
                micros.getStdDeviation() / 1000.0);
    }

    public long ok() {
        return count - errors;
    }

    /** Failed requests as a percentage of all, 0 when there were none. */
    public double errorPercent() {
        return count == 0 ? 0 : 100.0 * errors / count;
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }
}
