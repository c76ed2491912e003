package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.stats.IntervalSnapshot;

/** Follows a run as it goes, e.g. to print progress. Called from the runner's thread. */
public interface RunListener {
    RunListener NONE = new RunListener() {
    };

    /** The clock starts now; {@code plannedSeconds} is the injection's length. */
    default void started(RunInfo info) {
    }

    default void interval(IntervalSnapshot snapshot, double plannedSeconds) {
    }
}
