package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.ClosedInjection;
import dev.pgmux.loadtest.dsl.Population;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Starts a population's users on time. Runs on a platform thread of its own: parking precision matters
 * more here than anywhere else, and it must never wait behind the virtual users it starts.
 */
final class Injector implements Runnable {
    /** How often a closed-model ramp re-reads its target between user completions. */
    private static final long RAMP_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final UserGroup group;
    private final RunControl control;
    private final long originNanos;
    private final long seed;

    Injector(UserGroup group, RunControl control, long originNanos, long seed) {
        this.group = group;
        this.control = control;
        this.originNanos = originNanos;
        this.seed = seed;
    }

    @Override
    public void run() {
        switch (group.population.profile()) {
            case Population.Open open -> runOpen(Schedule.startOffsets(open.steps(), seed));
            case Population.Closed closed -> runClosed(closed);
        }
    }

    /** Each user at its scheduled instant, however the system under test is doing. */
    private void runOpen(long[] offsets) {
        for (long offset : offsets) {
            long at = originNanos + offset;
            if (!parkUntil(at)) {
                return;
            }
            control.startUser(group, at, true);
        }
    }

    /** Keeps the wanted number of users running; a finished user is replaced at once. */
    private void runClosed(Population.Closed closed) {
        long stepStart = originNanos;
        for (ClosedInjection step : closed.steps()) {
            long stepEnd = stepStart + step.duration().toNanos();
            boolean ramp = step instanceof ClosedInjection.Ramp;
            long now;
            while ((now = System.nanoTime()) < stepEnd && !control.hardStopped()) {
                int target = step.target(now - stepStart);
                while (group.active.get() < target && !control.hardStopped()) {
                    if (!control.startUser(group, System.nanoTime(), false)) {
                        break;
                    }
                }
                long wait = Math.min(stepEnd - now, ramp ? RAMP_RECHECK_NANOS : Long.MAX_VALUE);
                try {
                    if (group.finishedSignal.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
                        group.finishedSignal.drainPermits();
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
            stepStart = stepEnd;
        }
    }

    /** Parks until {@code deadline}; false if the run was stopped meanwhile. */
    private boolean parkUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            if (control.hardStopped()) {
                return false;
            }
            LockSupport.parkNanos(left);
        }
        return !control.hardStopped();
    }
}
