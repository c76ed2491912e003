package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.Fmt;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Runs one simulation against every target: first the targets measured once (direct Postgres, other servers),
 * then pgmux targets once per pool size. By default one pgmux process serves every pgmux point and is reloaded
 * to each point's pool_size ({@link PgmuxPoints#RELOAD}, see {@link PoolSizeReload}); with
 * {@link PgmuxPoints#RESTART} each point has a process of its own. A point that cannot run is recorded with its
 * reason and the sweep goes on.
 */
public final class Sweep {

    /** Runs the simulation once against {@code target} and writes that point's report into {@code outDir}. */
    @FunctionalInterface
    public interface PointRunner {
        RunResult run(Target target, String pointName, Path outDir, Map<String, String> extraConfig) throws Exception;
    }

    /**
     * What to sweep.
     *
     * @param upstream the Postgres: the {@code direct} target, and what pgmux is started in front of
     */
    public record Plan(Target upstream, List<SweepTarget> targets, List<Integer> poolSizes, double marginPercent,
                       Path outDir, List<String> assertions, PgmuxPoints pgmuxPoints) {
        public Plan {
            Objects.requireNonNull(pgmuxPoints, "pgmuxPoints");
            targets = List.copyOf(targets);
            poolSizes = poolSizes.stream().distinct().sorted().toList();
            assertions = List.copyOf(assertions);
            if (poolSizes.isEmpty() || poolSizes.get(0) < 1) {
                throw new IllegalArgumentException("pool sizes must be >= 1, got " + poolSizes);
            }
            if (!(marginPercent >= 0 && marginPercent < 100)) {
                throw new IllegalArgumentException("--margin must be between 0% and 100%, got " + marginPercent);
            }
        }

        boolean startsPgmux() {
            return targets.stream().anyMatch(t -> t instanceof SweepTarget.Pgmux);
        }

        /**
         * How the pgmux points get their pgmux: {@link PgmuxPoints#description()}, or, when pgmux targets differ in
         * tenant settings, a process per set of settings (consecutive targets with the same settings share one).
         */
        public String pgmuxProcesses() {
            long sets = 0;
            Map<String, String> last = null;
            for (SweepTarget t : targets) {
                if (t instanceof SweepTarget.Pgmux p && (sets == 0 || !p.settings().equals(last))) {
                    sets++;
                    last = p.settings();
                }
            }
            if (sets <= 1) {
                return pgmuxPoints.description();
            }
            return switch (pgmuxPoints) {
                case RELOAD -> "a pgmux process for each set of tenant settings (" + sets + " processes), each reloaded to"
                        + " each pool size by POST /reload";
                case RESTART -> pgmuxPoints.description() + " and its target's tenant settings";
            };
        }

        int pointCount() {
            return targets.stream().mapToInt(t -> t instanceof SweepTarget.Pgmux ? poolSizes.size() : 1).sum();
        }
    }

    private final Plan plan;
    private final PgmuxLauncher launcher;
    private final PointRunner runner;
    private final PrintStream log;

    public Sweep(Plan plan, PgmuxLauncher launcher, PointRunner runner, PrintStream log) {
        if (plan.startsPgmux() && launcher == null) {
            throw new IllegalArgumentException("pgmux targets need the pgmux jar");
        }
        this.plan = plan;
        this.launcher = launcher;
        this.runner = runner;
        this.log = log;
    }

    public SweepResult run(String name, String simulation, Map<String, String> configuration, List<String> warnings) {
        Instant startedAt = Instant.now();
        long t0 = System.nanoTime();
        List<SweepPoint> points = new ArrayList<>();
        int total = plan.pointCount();
        // the targets measured once go first: no pgmux then holds Postgres connections while they are measured
        List<SweepTarget.Pgmux> pgmuxTargets = new ArrayList<>();
        for (SweepTarget target : plan.targets()) {
            switch (target) {
                case SweepTarget.Pgmux pgmux -> pgmuxTargets.add(pgmux);
                case SweepTarget.Direct direct -> points.add(point(direct.label(), 0, plan.upstream(), Map.of(), points.size() + 1, total));
                case SweepTarget.Url url -> {
                    Target t = Target.parse(url.url(), null, null);
                    if (t.password() == null && t.user().equals(plan.upstream().user())) {
                        t = Target.parse(url.url(), null, plan.upstream().password());
                    }
                    points.add(point(url.label(), 0, t, Map.of(), points.size() + 1, total));
                }
            }
        }
        // consecutive pgmux targets with the same settings share their pgmux; other settings get a pgmux of their own
        PgmuxProcesses processes = null;
        try {
            Map<String, String> serving = null;
            for (SweepTarget.Pgmux pgmux : pgmuxTargets) {
                if (processes == null || !pgmux.settings().equals(serving)) {
                    if (processes != null) {
                        processes.close(); // no two pgmux processes hold Postgres connections at once
                    }
                    serving = pgmux.settings();
                    processes = PgmuxProcesses.of(plan.pgmuxPoints(), launcher.withTenantSettings(serving), plan.upstream(),
                            plan.outDir().resolve(logName(pgmux)), log);
                }
                for (int size : plan.poolSizes()) {
                    points.add(pgmuxPoint(processes, pgmux, size, points.size() + 1, total));
                }
            }
        } finally {
            if (processes != null) {
                processes.close();
            }
        }
        SweepPoint direct = points.stream().filter(p -> p.target().equals(new SweepTarget.Direct().label())).findFirst().orElse(null);
        List<Recommendation> recommendations = new ArrayList<>();
        for (SweepTarget target : plan.targets()) {
            if (target instanceof SweepTarget.Pgmux) {
                List<SweepPoint> mine = points.stream().filter(p -> p.target().equals(target.label())).toList();
                recommendations.add(Recommendation.decide(target.label(), mine, plan.marginPercent(), plan.assertions(), direct));
            }
        }
        Map<String, String> config = new LinkedHashMap<>(configuration);
        config.put("upstream", plan.upstream().display());
        config.put("targets", String.join(", ", plan.targets().stream().map(SweepTarget::label).toList()));
        for (SweepTarget t : plan.targets()) {
            if (t instanceof SweepTarget.Pgmux p && !p.settings().isEmpty()) {
                config.put("target " + p.label(), p.describe());
            }
        }
        config.put("pool sizes", plan.poolSizes().toString());
        config.put("margin", Fmt.axis(plan.marginPercent()) + "% of the best throughput");
        if (plan.startsPgmux()) {
            config.put("pgmux processes", plan.pgmuxProcesses());
        }
        if (launcher != null) {
            config.put("pgmux jar", shown(launcher.jar()));
            launcher.tenantSettings().forEach((k, v) -> config.put("pgmux " + k, v));
        }
        return new SweepResult(name, simulation, startedAt, (System.nanoTime() - t0) / 1e9, plan.upstream().display(),
                plan.targets().stream().map(SweepTarget::label).toList(), plan.poolSizes(), plan.marginPercent(),
                plan.assertions(), config, List.copyOf(points), List.copyOf(recommendations), List.copyOf(warnings),
                plan.startsPgmux() ? plan.pgmuxPoints() : null);
    }

    private SweepPoint pgmuxPoint(PgmuxProcesses processes, SweepTarget.Pgmux target, int size, int index, int total) {
        String name = target.label() + " pool " + size;
        Path dir = plan.outDir().resolve("points").resolve(dirName(target.label() + "-pool-" + size));
        banner(name, index, total);
        PgmuxProcesses.Served pgmux;
        try {
            pgmux = processes.prepare(size, dir);
        } catch (IOException | RuntimeException e) {
            log.println("  pgmux not ready: " + e.getMessage());
            return new SweepPoint(target.label(), size, null, "pgmux not ready: " + firstLine(e.getMessage()), null);
        }
        try {
            PgmuxLauncher.RunningPgmux running = pgmux.running();
            int port = target.transactionMode() ? running.ports().transaction() : running.ports().session();
            log.printf(Locale.ROOT, "  measuring through the %s port %d%n", target.transactionMode() ? "transaction" : "session", port);
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("pgmux pool_size", Integer.toString(size));
            extra.put("pgmux mode", target.transactionMode() ? "transaction" : "session");
            if (!target.settings().isEmpty()) {
                extra.put("pgmux target settings", target.label() + ": " + target.settingsText());
            }
            extra.put("pgmux processes", plan.pgmuxProcesses());
            extra.put("pgmux process", "pid " + running.pid() + ", started " + running.startedAt());
            extra.put("pgmux pool_size set by", pgmux.process().poolSizeSetBy());
            extra.put("pgmux admin port", Integer.toString(running.ports().admin()));
            extra.put("pgmux log", running.log().toString());
            SweepPoint p = run(target.label(), size, running.target(plan.upstream(), target.transactionMode()), name, dir, extra);
            return new SweepPoint(p.target(), p.poolSize(), p.result(), p.failure(), p.reportPath(), pgmux.process());
        } finally {
            processes.pointDone();
        }
    }

    private SweepPoint point(String label, int size, Target target, Map<String, String> extra, int index, int total) {
        banner(label, index, total);
        return run(label, size, target, label, plan.outDir().resolve("points").resolve(dirName(label)), extra);
    }

    private SweepPoint run(String label, int size, Target target, String name, Path dir, Map<String, String> extra) {
        String report = plan.outDir().relativize(dir.resolve("report.html")).toString();
        try {
            RunResult r = runner.run(target, name, dir, extra);
            return new SweepPoint(label, size, r, null, report);
        } catch (Exception e) {
            log.println("  " + name + " could not run: " + e.getMessage());
            return new SweepPoint(label, size, null, firstLine(String.valueOf(e.getMessage())), null);
        }
    }

    private void banner(String name, int index, int total) {
        log.printf(Locale.ROOT, "%n== %s (%d of %d) ==%n", name, index, total);
    }

    /** {@code pgmux.log} for the targets without settings of their own, {@code pgmux-NAME.log} for the others. */
    static String logName(SweepTarget.Pgmux target) {
        return target.settings().isEmpty() ? "pgmux.log" : "pgmux-" + dirName(target.label()) + ".log";
    }

    static String dirName(String label) {
        return label.replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }

    /** A jar under the working directory is shown relative to it: reports are shared, local paths mean nothing. */
    static String shown(java.nio.file.Path jar) {
        java.nio.file.Path here = java.nio.file.Path.of("").toAbsolutePath().normalize();
        java.nio.file.Path absolute = jar.toAbsolutePath().normalize();
        return absolute.startsWith(here) ? here.relativize(absolute).toString() : absolute.toString();
    }
}
