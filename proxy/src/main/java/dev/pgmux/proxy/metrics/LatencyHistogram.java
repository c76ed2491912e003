package dev.pgmux.proxy.metrics;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * Durations counted into fixed buckets, from any thread, without a lock or an allocation: one striped adder
 * per bucket and one for the sum (the event loops of a pool's clients record into the same histogram without
 * contending on one memory word). A scrape sums them; its view of a recording in progress may be off by one.
 * Two adds per recording, where Micrometer's timer also keeps a decaying maximum and a rotating window.
 */
public final class LatencyHistogram {
    /** Upper bounds, from 100 us to 30 s: a pooler's waits and a database's queries and transactions. */
    static final Duration[] BOUNDS = {
            Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30)};
    private static final long[] BOUND_NANOS = new long[BOUNDS.length];
    /** The bounds in seconds, then +Inf: as Prometheus names them ({@code le}). */
    static final double[] UPPER_BOUNDS_SECONDS = new double[BOUNDS.length + 1];

    static {
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUND_NANOS[i] = BOUNDS[i].toNanos();
            UPPER_BOUNDS_SECONDS[i] = BOUNDS[i].toNanos() / 1e9;
        }
        UPPER_BOUNDS_SECONDS[BOUNDS.length] = Double.POSITIVE_INFINITY;
    }

    private final LongAdder[] buckets = new LongAdder[BOUNDS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Counts one duration (negative ones, from a clock step, as zero). */
    public void record(long nanos) {
        long value = Math.max(0, nanos);
        buckets[bucket(value)].increment();
        sumNanos.add(value);
    }

    private static int bucket(long nanos) {
        int low = 0;
        int high = BOUND_NANOS.length; // the last slot is +Inf
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (nanos <= BOUND_NANOS[mid]) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low;
    }

    /** The count in each bucket (not cumulative), the last one above the largest bound. */
    public long[] bucketCounts() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return counts;
    }

    public long count() {
        long count = 0;
        for (LongAdder bucket : buckets) {
            count += bucket.sum();
        }
        return count;
    }

    public long sumNanos() {
        return sumNanos.sum();
    }
}
