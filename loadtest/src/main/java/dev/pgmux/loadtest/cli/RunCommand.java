package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Runner;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.Fmt;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;

import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code run}: one simulation against one target, live progress, report.html and report.json. */
final class RunCommand {
    static final Set<String> VALUES;

    static {
        Set<String> v = new HashSet<>(LoadOptions.VALUES);
        v.addAll(List.of("url", "target", "upstream", "pool-size"));
        VALUES = Set.copyOf(v);
    }

    private RunCommand() {}

    static int execute(List<String> argv, PrintStream out, PrintStream err) {
        Args args = Args.parse(argv, VALUES, LoadOptions.FLAGS);
        if (args.flag("help")) {
            out.print(Usage.RUN);
            return Main.OK;
        }
        LoadOptions o = new LoadOptions(args, "select-only", "run");
        String url = args.get("url");
        String kind = args.get("target");
        if ((url == null) == (kind == null)) {
            throw new UsageException("give --url URL, or --target direct|pgmux-session|pgmux-transaction with --upstream URL");
        }
        if (url != null && (args.has("upstream") || args.has("pool-size"))) {
            throw new UsageException("--upstream and --pool-size go with --target; with --url the target is already running");
        }
        Map<String, String> extra = new LinkedHashMap<>();
        PgmuxLauncher.RunningPgmux pgmux = null;
        Target target;
        try {
            if (url != null) {
                target = parseTarget(url, o);
            } else {
                Target upstream = parseTarget(required(args, "upstream"), o);
                switch (kind) {
                    case "direct" -> target = upstream;
                    case "pgmux-session", "pgmux-transaction" -> {
                        boolean tx = kind.equals("pgmux-transaction");
                        int poolSize = args.intValue("pool-size", 10, 1);
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

    static String required(Args args, String name) {
        String v = args.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }
}
