package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.Target;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where each pgmux point of a sweep gets its pgmux ({@link PgmuxPoints}): one process for the whole sweep,
 * reloaded to each point's pool_size, or a process of its own per point. Used by one thread, point after point:
 * {@link #prepare}, the point runs, {@link #pointDone}.
 */
sealed interface PgmuxProcesses extends AutoCloseable {

    /** A pgmux running the point's pool_size, and the record of it for the point. */
    record Served(PgmuxLauncher.RunningPgmux running, SweepPoint.PgmuxProcess process) {
    }

    /** A pgmux serving {@code poolSize} for the next point; throws with the reason the point cannot run. */
    Served prepare(int poolSize, Path pointDir) throws IOException;

    /** The point is over: its clients have closed their connections (or been abandoned). */
    void pointDone();

    @Override
    void close();

    /** {@code logFile}: where one process for every point writes (a process per point writes into the point's directory). */
    static PgmuxProcesses of(PgmuxPoints mode, PgmuxLauncher launcher, Target upstream, Path logFile, PrintStream log) {
        return switch (mode) {
            case RELOAD -> new OneProcess(launcher, upstream, logFile, log);
            case RESTART -> new ProcessPerPoint(launcher, upstream, log);
        };
    }

    /** {@code , tenant settings k=v; k=v} when the launcher writes any, else nothing. */
    private static String settingsNote(PgmuxLauncher launcher) {
        return launcher.tenantSettings().isEmpty() ? "" : ", tenant settings " + String.join("; ",
                launcher.tenantSettings().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    }

    /** A fresh process per point, started with its pool_size and stopped after it; its log in the point's directory. */
    final class ProcessPerPoint implements PgmuxProcesses {
        private final PgmuxLauncher launcher;
        private final Target upstream;
        private final PrintStream log;
        private PgmuxLauncher.RunningPgmux running;

        ProcessPerPoint(PgmuxLauncher launcher, Target upstream, PrintStream log) {
            this.launcher = launcher;
            this.upstream = upstream;
            this.log = log;
        }

        @Override
        public Served prepare(int poolSize, Path pointDir) throws IOException {
            running = launcher.start(upstream, poolSize, pointDir.resolve("pgmux.log"));
            log.printf(Locale.ROOT, "  pgmux started (pid %d, pool_size %d%s) for this point%n", running.pid(), poolSize,
                    settingsNote(launcher));
            return new Served(running, new SweepPoint.PgmuxProcess(running.pid(), running.startedAt(),
                    "started with pool_size " + poolSize));
        }

        @Override
        public void pointDone() {
            close();
        }

        @Override
        public void close() {
            if (running != null) {
                running.close();
                running = null;
            }
        }
    }

    /**
     * One process for every pgmux point: started with the first point's pool_size, then moved to each next one
     * by {@link PoolSizeReload}. A point whose reload or readiness check fails stops the process, and the next
     * point starts another (as it does when the process has exited): a pgmux in an unknown state measures nothing.
     */
    final class OneProcess implements PgmuxProcesses {
        private final PgmuxLauncher launcher;
        private final Target upstream;
        private final Path logFile;
        private final PrintStream log;
        private PgmuxLauncher.RunningPgmux running;
        private PgmuxAdmin admin;
        private int poolSize;
        private long lastPointEndedNanos;

        OneProcess(PgmuxLauncher launcher, Target upstream, Path logFile, PrintStream log) {
            this.launcher = launcher;
            this.upstream = upstream;
            this.logFile = logFile;
            this.log = log;
        }

        @Override
        public Served prepare(int size, Path pointDir) throws IOException {
            if (running != null && !running.process().isAlive()) {
                log.printf(Locale.ROOT, "  pgmux (pid %d) exited with status %d; starting another (log %s)%n",
                        running.pid(), running.process().exitValue(), logFile);
                close();
            }
            if (running == null) {
                running = launcher.start(upstream, size, logFile);
                admin = new PgmuxAdmin(running.ports().admin());
                poolSize = size;
                log.printf(Locale.ROOT, "  pgmux started (pid %d, pool_size %d%s); it serves the pgmux points that follow,"
                        + " reloaded to each pool size (log %s)%n", running.pid(), size, settingsNote(launcher), logFile);
                return served("started with pool_size " + size);
            }
            String how;
            try {
                how = PoolSizeReload.apply(launcher, running, admin, upstream, poolSize, size, lastPointEndedNanos);
            } catch (IOException | RuntimeException e) {
                log.printf(Locale.ROOT, "  stopping pgmux (pid %d): the move to pool_size %d failed%n", running.pid(), size);
                close();
                throw e;
            }
            poolSize = size;
            log.printf(Locale.ROOT, "  pgmux (pid %d): %s; in effect, the last point's clients gone%n", running.pid(), how);
            return served(how);
        }

        private Served served(String how) {
            return new Served(running, new SweepPoint.PgmuxProcess(running.pid(), running.startedAt(), how));
        }

        @Override
        public void pointDone() {
            lastPointEndedNanos = System.nanoTime();
        }

        @Override
        public void close() {
            if (running != null) {
                running.close();
                running = null;
                admin = null;
            }
        }
    }
}
