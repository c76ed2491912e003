package dev.pgmux.loadtest.engine;

/**
 * How well the load generator kept up. {@code startLag*} is how late open-model users started compared
 * with their schedule (it is part of their first request's latency anyway); dropped users were not started
 * because too many were running; users stopped at the deadline were still busy when the run's time was up.
 */
public record GeneratorStats(long usersStarted, long usersFinished, long usersDropped, long usersStoppedAtDeadline,
                             boolean openModel, double startLagP99Ms, double startLagMaxMs) {
}
