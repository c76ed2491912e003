package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.dsl.Durations;
import dev.pgmux.loadtest.engine.Target;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Takes a running pgmux from one point's pool_size to the next point's, and makes sure the next point measures
 * the new size and nothing left over from the last point. Each step is checked against what pgmux reports:
 *
 * <pre>
 *   1. quiet      the last point's clients are gone: no client connection in /metrics, in a scrape begun at least
 *                 0.6 s after that point ended (pgmux's client gauges may be up to 0.5 s old, so an earlier zero
 *                 could predate the point's end), and no server in use or waited for in /pools
 *   2. reload     the file pgmux was started with is rewritten with the new pool_size, and POST /reload must
 *                 answer 200 with exactly one change, tenants[loadtest].pool_size: OLD -> NEW, and nothing kept
 *                 until a restart
 *   3. in effect  every pool of the tenant shows size=NEW in /pools and open <= NEW (open counts connecting and
 *                 closing servers too): after a shrink, the servers beyond the new size are gone
 * </pre>
 *
 * pgmux applies a reload before it answers, so step 3 reads the new size at once; after a shrink, idle servers
 * beyond it close at the reload (step 1 left none busy). A step that does not hold within 30 s fails the point,
 * with what was seen last.
 */
final class PoolSizeReload {
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);
    /** Longer than pgmux may cache its client gauges (0.5 s). */
    static final Duration CLIENT_COUNT_DELAY = Duration.ofMillis(600);
    private static final long POLL_MILLIS = 50;

    private PoolSizeReload() {}

    /**
     * Steps 1 to 3 for a pgmux at pool_size {@code from} whose last point ended at {@code lastPointEndedNanos}
     * ({@link System#nanoTime()}); returns how the size was set, for the point's record.
     */
    static String apply(PgmuxLauncher launcher, PgmuxLauncher.RunningPgmux pgmux, PgmuxAdmin admin, Target upstream,
                        int from, int to, long lastPointEndedNanos) throws IOException {
        Liveness alive = () -> alive(pgmux);
        awaitQuiet(admin, alive, lastPointEndedNanos, SETTLE_TIMEOUT);
        String how;
        if (from == to) {
            how = "unchanged: pool_size " + to + " already";
        } else {
            launcher.rewrite(pgmux, upstream, to);
            how = "reload: " + check(admin.reload(), from, to);
        }
        awaitInEffect(admin, alive, to, SETTLE_TIMEOUT);
        return how;
    }

    /** The one change a reload from {@code from} to {@code to} reports. */
    static String changeLine(int from, int to) {
        return "tenants[" + PgmuxConfigYaml.TENANT + "].pool_size: " + from + " -> " + to;
    }

    /**
     * Checks pgmux's answer to the reload: 200 and exactly {@link #changeLine}, nothing else changed and nothing
     * kept until a restart. Returns the change; otherwise throws with pgmux's answer on one line.
     */
    static String check(PgmuxAdmin.Answer answer, int from, int to) throws IOException {
        String what = "the reload from pool_size " + from + " to " + to;
        String body = oneLine(answer.body());
        if (answer.status() == 422) {
            throw new IOException("pgmux refused " + what + " (HTTP 422): " + body);
        }
        if (answer.status() == 404 || answer.status() == 405) {
            throw new IOException("pgmux does not take POST /reload (HTTP " + answer.status()
                    + "); use a pgmux that reloads, or --restart-per-point");
        }
        if (answer.status() != 200) {
            throw new IOException(what + " failed with HTTP " + answer.status() + ": " + body);
        }
        List<String> lines = answer.body().strip().lines().toList();
        List<String> changes = new ArrayList<>();
        boolean other = lines.isEmpty() || !lines.get(0).startsWith("configuration reloaded");
        for (int i = 1; i < lines.size() && !other; i++) {
            if (lines.get(i).startsWith("  ")) {
                changes.add(lines.get(i).strip());
            } else {
                other = true; // another section, e.g. "kept until a restart:"
            }
        }
        String expected = changeLine(from, to);
        if (other || !changes.equals(List.of(expected))) {
            throw new IOException(what + " did not report exactly the change \"" + expected + "\"; pgmux answered: " + body);
        }
        return expected;
    }

    /** Throws when the pgmux being waited for has gone: there is nothing to wait for then. */
    @FunctionalInterface
    interface Liveness {
        void check() throws IOException;
    }

    /** Step 1: returns when the clients of the point that ended at {@code lastPointEndedNanos} are gone. */
    static void awaitQuiet(PgmuxAdmin admin, Liveness alive, long lastPointEndedNanos, Duration timeout) throws IOException {
        long wait = lastPointEndedNanos + CLIENT_COUNT_DELAY.toNanos() - System.nanoTime();
        if (wait > 0) {
            pause(TimeUnit.NANOSECONDS.toMillis(wait) + 1); // until a zero can only come from a count made after the point
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            alive.check();
            long clients = admin.clientConnections();
            List<String> busy = admin.pools().stream().filter(p -> p.active() > 0 || p.waiting() > 0)
                    .map(PgmuxAdmin.PoolStatus::line).toList();
            if (clients == 0 && busy.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("the previous point's clients had not left pgmux after " + Durations.format(timeout)
                        + ": " + clients + " client connection(s)" + (busy.isEmpty() ? "" : "; " + String.join("; ", busy)));
            }
            pause(POLL_MILLIS);
        }
    }

    /** Step 3: returns when every pool of the tenant shows {@code size} and has at most that many servers open. */
    static void awaitInEffect(PgmuxAdmin admin, Liveness alive, int size, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            alive.check();
            List<String> notYet = admin.pools().stream()
                    .filter(p -> p.tenant().equals(PgmuxConfigYaml.TENANT))
                    .filter(p -> (p.size() != size && !p.retired()) || p.open() > size)
                    .map(PgmuxAdmin.PoolStatus::line).toList();
            if (notYet.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("pool_size " + size + " was not in effect after " + Durations.format(timeout)
                        + " (want size=" + size + " and open <= " + size + "): " + String.join("; ", notYet));
            }
            pause(POLL_MILLIS);
        }
    }

    private static void alive(PgmuxLauncher.RunningPgmux pgmux) throws IOException {
        if (!pgmux.process().isAlive()) {
            throw new IOException("pgmux (pid " + pgmux.pid() + ") exited with status " + pgmux.process().exitValue()
                    + "; see " + pgmux.log() + "\n" + pgmux.logTail());
        }
    }

    /** Polling pgmux's admin port: it has no way to tell when a count changes. */
    private static void pause(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for pgmux", e);
        }
    }

    private static String oneLine(String text) {
        return String.join(" | ", text.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }
}
