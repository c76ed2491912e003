package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.RunResult;

import java.time.Instant;

/**
 * One measurement of a sweep: a target at a pool size ({@code poolSize} 0 for targets measured once).
 * {@code result} is null when the point could not be run; {@code failure} then says why.
 *
 * @param reportPath the point's own run report, relative to the sweep's report
 * @param pgmux      the pgmux process that served a pgmux point; null for the other targets, and when none started
 */
public record SweepPoint(String target, int poolSize, RunResult result, String failure, String reportPath,
                         PgmuxProcess pgmux) {

    /** A point of a target the sweep starts no pgmux for. */
    public SweepPoint(String target, int poolSize, RunResult result, String failure, String reportPath) {
        this(target, poolSize, result, failure, reportPath, null);
    }

    /**
     * The pgmux process that served a point.
     *
     * @param startedAt     when the operating system started it
     * @param poolSizeSetBy how it got the point's pool_size: {@code started with pool_size 4},
     *                      {@code reload: tenants[loadtest].pool_size: 2 -> 4}, {@code unchanged: pool_size 4 already}
     */
    public record PgmuxProcess(long pid, Instant startedAt, String poolSizeSetBy) {
    }

    public boolean measured() {
        return result != null && result.stats().global().count() > 0;
    }

    public boolean reference() {
        return poolSize == 0;
    }

    /** Successful requests per second: failed requests are no throughput. */
    public double throughput() {
        return result == null ? Double.NaN : result.stats().okRequestsPerSecond();
    }

    public double p99() {
        return measured() ? result.stats().global().p99() : Double.NaN;
    }

    public double p50() {
        return measured() ? result.stats().global().p50() : Double.NaN;
    }

    public double errorPercent() {
        return result == null ? Double.NaN : result.stats().global().errorPercent();
    }

    public boolean passed() {
        return measured() && result.passed();
    }

    public String name() {
        return reference() ? target : target + " pool " + poolSize;
    }
}
