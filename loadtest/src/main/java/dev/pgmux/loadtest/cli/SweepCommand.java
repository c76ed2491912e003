package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.SweepHtmlReport;
import dev.pgmux.loadtest.report.SweepJsonReport;
import dev.pgmux.loadtest.scenarios.BuiltInScenario;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;
import dev.pgmux.loadtest.sweep.PgmuxPoints;
import dev.pgmux.loadtest.sweep.Sweep;
import dev.pgmux.loadtest.sweep.SweepResult;
import dev.pgmux.loadtest.sweep.SweepTarget;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sweep}: one simulation across pool sizes and targets; one pgmux process serves every pgmux point, reloaded
 * to each pool size (or, with {@code --restart-per-point}, a pgmux per point). Writes sweep.html and sweep.json,
 * and a run report per point under points/.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        customSynopsis = "java -jar pgmux-loadtest.jar sweep --upstream URL [options]",
        description = {
            "Runs one simulation against each target: the targets measured once first, then pgmux targets once per pool"
                + " size, all served by one pgmux process (one per set of tenant settings) whose pool_size is changed by"
                + " POST /reload between points"
                + " (--restart-per-point: a fresh pgmux for every point). Writes sweep.html and sweep.json, and a run"
                + " report per point under points/.",
            "Recommends, per pgmux target, the smallest pool size whose throughput is within the margin of the best one"
                + " and whose run met every assertion ('errors<1%%' is added when no errors assertion is given).",
            "Default scenario: serverless (connect per request, which session mode serves too)."})
final class SweepCommand implements Callable<Integer> {
    static final String DEFAULT_TARGETS = "direct,pgmux-session,pgmux-transaction";
    static final String DEFAULT_POOL_SIZES = "2,4,8,16,32";

    @Option(names = "--upstream", paramLabel = "URL", required = true, order = 1,
            description = "the Postgres: the `direct` target, and what pgmux is started in front of")
    String upstreamUrl;

    @Option(names = "--targets", paramLabel = "LIST", order = 2, defaultValue = DEFAULT_TARGETS,
            description = "direct, pgmux-session, pgmux-transaction, url:URL, NAME=url:URL, NAME=pgmux-session|pgmux-transaction"
                    + ":KEY=VALUE[;KEY=VALUE] (tenant settings of that target's own pgmux) (default ${DEFAULT-VALUE})")
    String targetList;

    @Option(names = "--pool-sizes", paramLabel = "N", order = 3, split = "\\s*,\\s*", splitSynopsisLabel = ",",
            defaultValue = DEFAULT_POOL_SIZES, description = "pgmux pool_size values (default ${DEFAULT-VALUE})")
    List<Integer> poolSizes;

    @Option(names = "--margin", paramLabel = "P", order = 4, defaultValue = "10", converter = Values.Percent.class,
            description = "percent of the best throughput (default ${DEFAULT-VALUE})")
    double margin;

    @Option(names = "--restart-per-point", order = 5,
            description = "start a fresh pgmux for every point (a cold JVM and an empty pool each time) instead of"
                    + " reloading one pgmux to each pool size")
    boolean restartPerPoint;

    @Mixin
    LoadArgs load;

    private final PrintStream out;
    private final PrintStream err;

    SweepCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        LoadOptions o = new LoadOptions(load, "serverless", "sweep");
        Target upstream = RunCommand.parseTarget(upstreamUrl, o);
        List<SweepTarget> targets;
        try {
            targets = SweepTarget.parseList(targetList);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<String> assertionTexts = new ArrayList<>(o.assertionTexts);
        if (o.assertions.stream().noneMatch(a -> a.metric() == Assertion.Metric.ERROR_PERCENT)) {
            // a pool size whose runs fail is no candidate, even when nobody said so
            Assertion errors = Dsl.global().failedRequests().percent().lt(1);
            o.assertions.add(errors);
            assertionTexts.add(errors.describe() + " (added by the sweep)");
        }
        Sweep.Plan plan;
        try {
            plan = new Sweep.Plan(upstream, targets, poolSizes, margin, o.out, assertionTexts,
                    restartPerPoint ? PgmuxPoints.RESTART : PgmuxPoints.RELOAD);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PgmuxLauncher launcher = targets.stream().anyMatch(t -> t instanceof SweepTarget.Pgmux) ? o.launcher() : null;
        if (launcher != null) {
            checkSettings(launcher, upstream, targets);
        }
        List<String> warnings = warnings(o, targets, plan.poolSizes());
        warnings.forEach(w -> err.println("pgmux-loadtest: warning: " + w));
        out.printf("pgmux-loadtest %s sweep: %s; targets %s; pool sizes %s; report in %s%n", Version.get(), o.simulationName,
                String.join(", ", targets.stream().map(SweepTarget::label).toList()), plan.poolSizes(), o.out);
        if (launcher != null) {
            out.printf("pgmux points: %s%n", plan.pgmuxProcesses());
        }
        Sweep sweep = new Sweep(plan, launcher,
                (target, name, dir, extra) -> Execution.run(o, target, name, dir, extra, out, name), out);
        SweepResult result = sweep.run(o.name, o.simulationName, o.configuration(), warnings);
        try {
            Files.createDirectories(o.out);
            Files.writeString(o.out.resolve("sweep.json"), SweepJsonReport.render(result));
            Files.writeString(o.out.resolve("sweep.html"), SweepHtmlReport.render(result, Version.get()));
        } catch (IOException e) {
            err.println("pgmux-loadtest: cannot write the sweep report: " + e.getMessage());
            return Main.CANNOT_RUN;
        }
        Summary.print(result, out);
        out.printf("%nReport: %s%n        %s%n", o.out.resolve("sweep.html"), o.out.resolve("sweep.json"));
        if (!result.passed()) {
            err.println("pgmux-loadtest: no pool size met every assertion for "
                    + String.join(", ", result.recommendations().stream().filter(r -> !r.found()).map(r -> r.target()).toList()));
            return Main.ASSERTION_FAILED;
        }
        return Main.OK;
    }

    /**
     * Before anything is measured: pgmux itself ({@code pgmux check}) reads the configuration the sweep will start it
     * with, once per set of tenant settings; a setting it refuses (an unknown key, a value of the wrong kind) is a
     * mistake on the command line, reported in pgmux's own words with the targets concerned.
     */
    static void checkSettings(PgmuxLauncher launcher, Target upstream, List<SweepTarget> targets) {
        java.util.Map<java.util.Map<String, String>, List<String>> groups = new java.util.LinkedHashMap<>();
        for (SweepTarget t : targets) {
            if (t instanceof SweepTarget.Pgmux p) {
                groups.computeIfAbsent(p.settings(), k -> new ArrayList<>()).add(p.label());
            }
        }
        groups.forEach((settings, labels) -> {
            String names = String.join(", ", labels);
            java.util.Optional<String> refused;
            try {
                refused = launcher.withTenantSettings(settings).check(upstream, "the pgmux configuration for " + names);
            } catch (IOException | RuntimeException e) {
                throw new UsageException("cannot check the pgmux configuration for " + names + ": " + e.getMessage(), e);
            }
            refused.ifPresent(problems -> {
                String given = settings.isEmpty() ? "--pgmux-set" : "--targets " + names + " (" + String.join("; ",
                        settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()) + ")";
                throw new UsageException(given + ": pgmux refuses the tenant settings:\n" + problems);
            });
        });
    }

    /** Session mode with connections held for the whole run and fewer servers than connections: say what will happen. */
    static List<String> warnings(LoadOptions o, List<SweepTarget> targets, List<Integer> sizes) {
        List<String> w = new ArrayList<>();
        boolean session = targets.stream().anyMatch(t -> t instanceof SweepTarget.Pgmux p && !p.transactionMode());
        BuiltInScenario b = o.builtIn;
        if (!session || b == null) {
            return w;
        }
        int held = b.connectionsHeld(o.context);
        int smallest = sizes.stream().mapToInt(Integer::intValue).min().orElse(0);
        if (held > smallest) {
            w.add("pgmux-session: in session mode every client connection holds a server connection for its whole life,"
                    + " and this run keeps " + held + " client connections open throughout; at pool sizes below " + held
                    + " the other clients wait for a server (up to checkout_timeout, 10s by default) and then fail."
                    + " Use pool sizes of at least " + held + " for session mode, or a connect-per-request scenario (serverless).");
        }
        return w;
    }
}
