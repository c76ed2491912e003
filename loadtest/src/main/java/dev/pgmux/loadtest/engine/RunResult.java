package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.stats.RunStats;

import java.util.List;

/** A finished run: what it was, what it measured, the assertions' verdicts. */
public record RunResult(RunInfo info, RunStats stats, List<AssertionResult> assertions, GeneratorStats generator,
                        double elapsedSeconds) {

    public boolean passed() {
        return assertions.stream().allMatch(AssertionResult::passed);
    }

    public List<AssertionResult> failures() {
        return assertions.stream().filter(a -> !a.passed()).toList();
    }
}
