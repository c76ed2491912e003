package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Runner;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.Fmt;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code run}: one simulation against one target, live progress, report.html and report.json. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        customSynopsis = "java -jar pgmux-loadtest.jar run (--url URL | --target KIND --upstream URL) [options]",
        description = "Runs one simulation, prints progress every second, writes report.html and report.json.")
final class RunCommand implements Callable<Integer> {
    @ArgGroup(validate = false, heading = "%nTarget:%n", order = 0)
    TargetArgs targetArgs = new TargetArgs();

    @Mixin
    LoadArgs load;

    private final PrintStream out;
    private final PrintStream err;

    static final class TargetArgs {
        @Option(names = "--url", paramLabel = "URL", order = 1,
                description = "postgresql://USER:PASSWORD@HOST:PORT/DB or"
                        + " jdbc:postgresql://HOST:PORT/DB?user=...&password=... (Postgres, pgmux, any pooler)")
        String url;

        @Option(names = "--target", paramLabel = "KIND", order = 2,
                description = "direct: --upstream itself; pgmux-session, pgmux-transaction: start pgmux in front of"
                        + " --upstream with --pool-size N for this run")
        String kind;

        @Option(names = "--upstream", paramLabel = "URL", order = 3, description = "the Postgres, for --target")
        String upstream;

        @Option(names = "--pool-size", paramLabel = "N", order = 4, converter = Values.Count.class,
                description = "pgmux's pool_size, for --target pgmux-* (default 10)")
        Integer poolSize;
    }

    RunCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        LoadOptions o = new LoadOptions(load, "select-only", "run");
        String url = targetArgs.url;
        String kind = targetArgs.kind;
        if ((url == null) == (kind == null)) {
            throw new UsageException("give --url URL, or --target direct|pgmux-session|pgmux-transaction with --upstream URL");
        }
        if (url != null && (targetArgs.upstream != null || targetArgs.poolSize != null)) {
            throw new UsageException("--upstream and --pool-size go with --target; with --url the target is already running");
        }
        Map<String, String> extra = new LinkedHashMap<>();
        PgmuxLauncher.RunningPgmux pgmux = null;
        Target target;
        try {
            if (url != null) {
                target = parseTarget(url, o);
            } else {
                if (targetArgs.upstream == null) {
                    throw new UsageException("--target needs --upstream URL");
                }
                Target upstream = parseTarget(targetArgs.upstream, o);
                switch (kind) {
                    case "direct" -> target = upstream;
                    case "pgmux-session", "pgmux-transaction" -> {
                        boolean tx = kind.equals("pgmux-transaction");
                        int poolSize = targetArgs.poolSize != null ? targetArgs.poolSize : 10;
                        PgmuxLauncher launcher = o.launcher();
                        pgmux = launcher.start(upstream, poolSize, o.out.resolve("pgmux.log"));
                        target = pgmux.target(upstream, tx);
                        out.printf("pgmux started: pid %d, pool_size %d, %s port %d (log %s)%n", pgmux.pid(), poolSize,
                                tx ? "transaction" : "session", tx ? pgmux.ports().transaction() : pgmux.ports().session(), pgmux.log());
                        extra.put("pgmux pool_size", Integer.toString(poolSize));
                        extra.put("pgmux mode", tx ? "transaction" : "session");
                        extra.put("pgmux jar", launcher.jar().toString());
                        launcher.tenantSettings().forEach((k, v) -> extra.put("pgmux " + k, v));
                    }
                    default -> throw new UsageException("--target must be direct, pgmux-session or pgmux-transaction, got " + kind);
                }
            }
            out.printf("pgmux-loadtest %s: %s%n", Version.get(), o.simulationName);
            RunResult result = Execution.run(o, target, o.name, o.out, extra, out, "");
            Summary.print(result, out);
            out.printf("%nReport: %s%n        %s%n", o.out.resolve("report.html"), o.out.resolve("report.json"));
            if (!result.passed()) {
                err.println("pgmux-loadtest: " + result.failures().size() + " assertion(s) failed:");
                result.failures().forEach(f -> err.println("  " + f.description() + " (measured "
                        + Fmt.metric(f.assertion().metric(), f.actual()) + ")"));
                return Main.ASSERTION_FAILED;
            }
            return Main.OK;
        } catch (Runner.StartFailure | IOException e) {
            err.println("pgmux-loadtest: " + e.getMessage());
            return Main.CANNOT_RUN;
        } finally {
            if (pgmux != null) {
                pgmux.close();
            }
        }
    }

    static Target parseTarget(String url, LoadOptions o) {
        try {
            return Target.parse(url, o.user, o.password);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
