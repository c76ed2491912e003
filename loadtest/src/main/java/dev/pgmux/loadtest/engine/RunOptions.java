package dev.pgmux.loadtest.engine;

import java.time.Duration;

/**
 * How the runner runs a simulation.
 *
 * @param warmup         requests due before this are shown in the timeline but kept out of the totals and
 *                       the assertions; rounded up to whole intervals
 * @param grace          when the simulation sets no maximum duration: how long users may go on after the
 *                       injection ended before they are stopped
 * @param maxActiveUsers open-model users beyond this many running at once are not started (and counted as dropped)
 * @param seed           for randomized injection
 */
public record RunOptions(Duration warmup, Duration grace, int maxActiveUsers, long seed, Duration tick) {

    public static final RunOptions DEFAULTS = new RunOptions(Duration.ZERO, Duration.ofSeconds(30), 10_000, 1,
            Duration.ofSeconds(1));

    public RunOptions {
        if (warmup.isNegative() || grace.isNegative() || maxActiveUsers < 1 || tick.toMillis() < 10) {
            throw new IllegalArgumentException("bad run options: " + warmup + ", " + grace + ", " + maxActiveUsers + ", " + tick);
        }
    }

    public RunOptions withWarmup(Duration d) {
        return new RunOptions(d, grace, maxActiveUsers, seed, tick);
    }

    public RunOptions withGrace(Duration d) {
        return new RunOptions(warmup, d, maxActiveUsers, seed, tick);
    }

    public RunOptions withMaxActiveUsers(int n) {
        return new RunOptions(warmup, grace, n, seed, tick);
    }

    public RunOptions withSeed(long s) {
        return new RunOptions(warmup, grace, maxActiveUsers, s, tick);
    }
}
