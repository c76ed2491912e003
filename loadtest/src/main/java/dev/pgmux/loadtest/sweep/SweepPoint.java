package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.RunResult;

/**
 * One measurement of a sweep: a target at a pool size ({@code poolSize} 0 for targets measured once).
 * {@code result} is null when the point could not be run; {@code failure} then says why.
 *
 * @param reportPath the point's own run report, relative to the sweep's report
 */
public record SweepPoint(String target, int poolSize, RunResult result, String failure, String reportPath) {

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
