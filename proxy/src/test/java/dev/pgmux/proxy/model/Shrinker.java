package dev.pgmux.proxy.model;

import dev.pgmux.proxy.model.Program.Batch;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a failing program smaller while it still fails: cut after the failing batch, drop whole batches,
 * drop single messages (never a batch's last Sync or Query), then drop server switches. Only meaningful
 * with a reproducible placement.
 */
final class Shrinker {
    /** Runs a candidate; returns its result. */
    interface Trial {
        ProgramRunner.Result run(Program program) throws IOException;
    }

    private final Trial trial;
    private final int maxTrials;
    private int trials;

    Shrinker(Trial trial, int maxTrials) {
        this.trial = trial;
        this.maxTrials = maxTrials;
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
                    boolean unitEnd = removed.readyCount() > 0;
                    boolean lastOp = o == batch.ops().size() - 1;
                    if ((unitEnd && lastOp) || ops.isEmpty()) {
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
        if (candidate.messageCount() >= best.program().messageCount() && candidate.equals(best.program())) {
            return java.util.Optional.empty();
        }
        trials++;
        ProgramRunner.Result result = trial.run(candidate);
        if (result.matched()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new ProgramRunner.Result(candidate, result.batchesRun(), result.mismatch()));
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
