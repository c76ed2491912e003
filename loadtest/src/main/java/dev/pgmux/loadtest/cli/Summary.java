package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.engine.AssertionResult;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.report.Fmt;
import dev.pgmux.loadtest.stats.ErrorSummary;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RequestSummary;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.sweep.Recommendation;
import dev.pgmux.loadtest.sweep.SweepPoint;
import dev.pgmux.loadtest.sweep.SweepResult;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The end-of-run text on the console: per-request figures, errors, assertions. */
final class Summary {
    private Summary() {}

    static void print(RunResult r, PrintStream out) {
        RunStats s = r.stats();
        out.printf(Locale.ROOT, "%nFinished in %.1f s; measured %.1f s%s.%n%n", r.elapsedSeconds(), s.measuredSeconds(),
                r.info().warmupSeconds() > 0 ? " after a " + Fmt.axis(r.info().warmupSeconds()) + " s warm-up" : "");
        int width = Math.max(26, s.requests().stream().mapToInt(q -> q.name().length() + 2).max().orElse(0));
        String head = "%-" + width + "s %10s %8s %10s %8s %8s %8s %8s%n";
        out.printf(Locale.ROOT, head, "request", "count", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms");
        row(out, head, "all (excl. transactions)", s.global(), s.globalRequestsPerSecond());
        for (RequestSummary q : s.requests()) {
            row(out, head, q.name(), q.stats(), q.requestsPerSecond());
        }
        if (!s.errors().isEmpty()) {
            out.printf("%nErrors:%n");
            for (ErrorSummary e : s.errors()) {
                out.printf(Locale.ROOT, "  %-6s %10s  %s%n", e.key().sqlStateOrDash(), Fmt.count(e.count()), e.key().message());
            }
        }
        if (r.generator().usersDropped() > 0) {
            out.printf(Locale.ROOT, "%n%s users were not started: the cap on active users (--max-users) was reached.%n",
                    Fmt.count(r.generator().usersDropped()));
        }
        assertions(r, out);
    }

    private static void row(PrintStream out, String format, String name, LatencyStats st, double rps) {
        boolean any = st.count() > 0;
        out.printf(Locale.ROOT, format, name, Fmt.count(st.count()), Fmt.count(st.errors()), Fmt.rate(rps),
                any ? Fmt.ms(st.p50()) : "–", any ? Fmt.ms(st.p95()) : "–", any ? Fmt.ms(st.p99()) : "–", any ? Fmt.ms(st.max()) : "–");
    }

    static void assertions(RunResult r, PrintStream out) {
        if (r.assertions().isEmpty()) {
            return;
        }
        out.printf("%nAssertions:%n");
        for (AssertionResult a : r.assertions()) {
            out.printf(Locale.ROOT, "  %-7s %s (measured %s)%n", a.passed() ? "passed" : "FAILED", a.description(),
                    Fmt.metric(a.assertion().metric(), a.actual()));
        }
    }

    /** Which pgmux processes served the points, and how they got their pool sizes. */
    private static void pgmuxProcesses(SweepResult r, PrintStream out) {
        if (r.pgmuxPoints() == null) {
            return;
        }
        long served = r.points().stream().filter(p -> p.pgmux() != null).count();
        List<Long> pids = r.pgmuxPids();
        String pidList = String.join(", ", pids.stream().map(String::valueOf).toList());
        String points = served == 1 ? "1 pgmux point" : served + " pgmux points";
        out.println();
        if (served == 0) {
            out.println("pgmux: no pgmux point was served (" + r.pgmuxPoints().description() + ").");
            return;
        }
        switch (r.pgmuxPoints()) {
            case RELOAD -> out.println(pids.size() == 1
                    ? "pgmux: one process (pid " + pidList + ") served the " + points + "; pool_size changed by POST /reload between them."
                    : "pgmux: " + pids.size() + " processes served the " + points + " (" + byProcess(r)
                            + "); pool_size changed by POST /reload between the points of a process; a new process starts"
                            + " for a target with settings of its own, and after one failed or exited.");
            case RESTART -> out.println("pgmux: a fresh process for each of the " + points + " (--restart-per-point; pids "
                    + pidList + ").");
        }
    }

    /** {@code pid 123: pgmux-session, pgmux-transaction; pid 456: nocache}, in the order the processes served. */
    static String byProcess(SweepResult r) {
        java.util.Map<Long, java.util.Set<String>> targets = new java.util.LinkedHashMap<>();
        r.points().stream().filter(p -> p.pgmux() != null).forEach(p ->
                targets.computeIfAbsent(p.pgmux().pid(), k -> new java.util.LinkedHashSet<>()).add(p.target()));
        return String.join("; ", targets.entrySet().stream()
                .map(e -> "pid " + e.getKey() + ": " + String.join(", ", e.getValue())).toList());
    }

    static void print(SweepResult r, PrintStream out) {
        out.printf(Locale.ROOT, "%nSweep finished in %s.%n%n", Fmt.clock(r.elapsedSeconds()));
        String format = "%-24s %6s %12s %9s %9s %8s  %s%n";
        out.printf(Locale.ROOT, format, "target", "pool", "req/s (ok)", "p50 ms", "p99 ms", "errors", "assertions");
        for (SweepPoint p : r.points()) {
            if (p.result() == null) {
                out.printf(Locale.ROOT, "%-24s %6s  %s%n", p.target(), p.reference() ? "-" : p.poolSize(), p.failure());
                continue;
            }
            out.printf(Locale.ROOT, format, p.target(), p.reference() ? "-" : Integer.toString(p.poolSize()),
                    Fmt.rate(p.throughput()), Fmt.ms(p.p50()), Fmt.ms(p.p99()), Fmt.percent(p.errorPercent()),
                    p.result().assertions().isEmpty() ? "-" : p.result().passed() ? "passed" : "FAILED");
        }
        pgmuxProcesses(r, out);
        for (Recommendation rec : r.recommendations()) {
            out.printf(Locale.ROOT, "%n%s: %s%n", rec.target(), rec.found() ? "recommended pool_size " + rec.poolSize()
                    : "no pool size qualifies");
            for (String step : rec.reasoning()) {
                out.println("  - " + step);
            }
        }
    }
}
