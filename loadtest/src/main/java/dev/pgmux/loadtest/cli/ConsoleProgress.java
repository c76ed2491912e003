package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunListener;
import dev.pgmux.loadtest.report.Fmt;
import dev.pgmux.loadtest.stats.IntervalSnapshot;
import dev.pgmux.loadtest.stats.LatencyStats;

import java.io.PrintStream;
import java.util.Locale;

/**
 * One line per second on the console: elapsed/planned time, active users, requests per second and p50/p99
 * of the last interval, errors in it and so far.
 */
final class ConsoleProgress implements RunListener {
    private final PrintStream out;
    private final String prefix;
    private final boolean quiet;
    private long errorsSoFar;

    ConsoleProgress(PrintStream out, String prefix, boolean quiet) {
        this.out = out;
        this.prefix = prefix.isEmpty() ? "" : "[" + prefix + "] ";
        this.quiet = quiet;
    }

    @Override
    public void started(RunInfo info) {
        out.println(prefix + "target      " + info.target());
        for (String p : info.populations()) {
            out.println(prefix + "population  " + p);
        }
        if (!quiet) {
            out.println(prefix + "   time        users          req/s        p50        p99    errors (interval/total)");
        }
        out.flush();
    }

    @Override
    public void interval(IntervalSnapshot s, double plannedSeconds) {
        LatencyStats g = s.global();
        errorsSoFar += g.errors();
        if (quiet) {
            return;
        }
        out.println(prefix + line(s, plannedSeconds, errorsSoFar));
        out.flush();
    }

    static String line(IntervalSnapshot s, double plannedSeconds, long errorsSoFar) {
        LatencyStats g = s.global();
        boolean any = g.count() > 0;
        return String.format(Locale.ROOT, "%5s/%-5s %5d active %10s/s %8s ms %8s ms %6s / %s%s",
                Fmt.clock(s.endSeconds()), Fmt.clock(plannedSeconds), s.users().active(), Fmt.rate(s.requestsPerSecond()),
                any ? Fmt.ms(g.p50()) : "–", any ? Fmt.ms(g.p99()) : "–", Fmt.count(g.errors()), Fmt.count(errorsSoFar),
                s.warmup() ? "  (warm-up)" : s.startSeconds() >= plannedSeconds - 1e-6 ? "  (wind-down)" : "");
    }
}
