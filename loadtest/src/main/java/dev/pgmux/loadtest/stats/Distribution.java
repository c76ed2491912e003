package dev.pgmux.loadtest.stats;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import java.util.ArrayList;
import java.util.List;

/** The shapes of a latency histogram that the reports draw: bars of counts, and latency by percentile. */
public final class Distribution {
    /** Percentiles of the latency-by-percentile curve: the tail is what poolers change, so it is dense there. */
    static final double[] CURVE_PERCENTILES = {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100};
    private static final int TARGET_BUCKETS = 30;

    private Distribution() {}

    /** Requests whose latency fell in {@code [fromMs, toMs)}; the last bucket also holds everything above. */
    public record Bucket(double fromMs, double toMs, long count, boolean openEnded) {
    }

    public record PercentilePoint(double percentile, double ms) {
    }

    /**
     * Equal-width buckets from the minimum to the 99.9th percentile, the width a round number of
     * microseconds (1, 2 or 5 times a power of ten); the slow tail above goes into the last bucket.
     */
    public static List<Bucket> buckets(Histogram micros) {
        if (micros.getTotalCount() == 0) {
            return List.of();
        }
        long lo = micros.getMinValue();
        long hi = Math.max(micros.getValueAtPercentile(99.9), lo + 1);
        long width = niceStep((hi - lo) / (double) TARGET_BUCKETS);
        long start = lo / width * width;
        int n = (int) Math.max(1, Math.min(2L * TARGET_BUCKETS, (hi - start) / width + 1));
        long[] counts = new long[n];
        boolean open = false;
        for (HistogramIterationValue v : micros.recordedValues()) {
            // values below 2048 us are exact; above, the middle of the value's 0.1 % wide sub-bucket
            long value = micros.medianEquivalentValue(v.getValueIteratedTo());
            int i = (int) ((value - start) / width);
            if (i >= n) {
                i = n - 1;
                open = true;
            }
            counts[Math.max(0, i)] += v.getCountAtValueIteratedTo();
        }
        List<Bucket> buckets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long from = start + i * width;
            buckets.add(new Bucket(from / 1000.0, (from + width) / 1000.0, counts[i], open && i == n - 1));
        }
        return buckets;
    }

    public static List<PercentilePoint> percentiles(Histogram micros) {
        if (micros.getTotalCount() == 0) {
            return List.of();
        }
        List<PercentilePoint> points = new ArrayList<>();
        for (double p : CURVE_PERCENTILES) {
            long v = p == 0 ? micros.getMinValue() : p == 100 ? micros.getMaxValue() : micros.getValueAtPercentile(p);
            points.add(new PercentilePoint(p, v / 1000.0));
        }
        return points;
    }

    /** The smallest of 1, 2, 5 × 10^k that is at least {@code raw} (and at least 1). */
    static long niceStep(double raw) {
        if (raw <= 1) {
            return 1;
        }
        long pow = 1;
        while (pow * 10 <= raw) {
            pow *= 10;
        }
        for (long m : new long[] {1, 2, 5, 10}) {
            if (m * pow >= raw) {
                return m * pow;
            }
        }
        return 10 * pow;
    }
}
