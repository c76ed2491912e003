package dev.pgmux.proxy.model;

import dev.pgmux.proxy.model.Program.Batch;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a failing program smaller while it still fails: cut after the failing batch, drop whole batches,
 * drop single messages (never a Sync), then drop server switches. Only meaningful
 * with a reproducible placement.
 */
final class Shrinker {
    /** Runs a candidate; returns its result. */
    interface Trial {
        ProgramRunner.Result run(Program program) throws IOException;
    }

    private final Trial trial;
    private final int maxTrials;
    private final long deadlineNanos;
    private int trials;

    /** At most {@code maxTrials} runs, none started after {@code deadlineNanos} ({@link System#nanoTime()}). */
    Shrinker(Trial trial, int maxTrials, long deadlineNanos) {
        this.trial = trial;
        this.maxTrials = maxTrials;
        this.deadlineNanos = deadlineNanos;
    }

    ProgramRunner.Result shrink(ProgramRunner.Result failing) throws IOException {
        ProgramRunner.Result best = failing;
        best = attempt(best, truncated(best.program(), best.batchesRun())).orElse(best);
        boolean progress = true;
        while (progress && trials < maxTrials) {
            progress = false;
            for (int b = 0; b < best.program().batches().size() && trials < maxTrials; b++) {
                List<Batch> batches = new ArrayList<>(best.program().batches());
                batches.remove(b);
                if (batches.isEmpty()) {
                    continue;
                }
                var result = attempt(best, new Program(best.program().seed(), batches));
                if (result.isPresent()) {
                    best = result.get();
                    progress = true;
                    b--;
                }
            }
            for (int b = 0; b < best.program().batches().size() && trials < maxTrials; b++) {
                for (int o = 0; o < best.program().batches().get(b).ops().size() && trials < maxTrials; o++) {
                    Batch batch = best.program().batches().get(b);
                    List<Op> ops = new ArrayList<>(batch.ops());
                    Op removed = ops.remove(o);
                    // A Sync stays: without it a unit would run into the next one, which no driver sends.
                    if (removed instanceof Op.Sync || ops.isEmpty() || ops.get(ops.size() - 1).readyCount() == 0) {
                        continue;
                    }
                    var result = attempt(best, replace(best.program(), b, new Batch(List.copyOf(ops), batch.switchServer())));
                    if (result.isPresent()) {
                        best = result.get();
                        progress = true;
                        o--;
                    }
                }
            }
            for (int b = 0; b < best.program().batches().size() && trials < maxTrials; b++) {
                Batch batch = best.program().batches().get(b);
                if (batch.switchServer()) {
                    var result = attempt(best, replace(best.program(), b, new Batch(batch.ops(), false)));
                    if (result.isPresent()) {
                        best = result.get();
                        progress = true;
                    }
                }
            }
        }
        return best;
    }

    int trials() {
        return trials;
    }

    private java.util.Optional<ProgramRunner.Result> attempt(ProgramRunner.Result best, Program candidate) throws IOException {
        if (candidate.equals(best.program()) || trials >= maxTrials || System.nanoTime() > deadlineNanos
                || PostgresHazard.present(candidate)) {
            return java.util.Optional.empty();
        }
        trials++;
        if (Boolean.getBoolean("pgmux.model.verbose")) {
            System.out.println("shrink trial " + trials + ":\n" + candidate.describe(Integer.MAX_VALUE));
        }
        ProgramRunner.Result result = trial.run(candidate);
        if (Boolean.getBoolean("pgmux.model.verbose")) {
            System.out.println(result.matched() ? "  -> same" : "  -> differs: " + result.mismatch());
        }
        // Only the same kind of difference counts: shrinking must not wander off to another bug.
        if (result.matched() || !result.signature().equals(best.signature())) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(result);
    }

    private static Program truncated(Program program, int batches) {
        return new Program(program.seed(), List.copyOf(program.batches().subList(0, Math.min(batches, program.batches().size()))));
    }

    private static Program replace(Program program, int index, Batch batch) {
        List<Batch> batches = new ArrayList<>(program.batches());
        batches.set(index, batch);
        return new Program(program.seed(), List.copyOf(batches));
    }
}
