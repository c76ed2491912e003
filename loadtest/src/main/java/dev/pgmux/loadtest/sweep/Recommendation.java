package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.AssertionResult;
import dev.pgmux.loadtest.report.Fmt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The pool size a sweep recommends for one target, and why: the smallest pool size whose throughput is
 * within {@code marginPercent} of the best one measured and whose run met every assertion (p99 below the
 * limit, errors below the limit, ...). Smaller pools leave Postgres connections to other tenants and apps.
 *
 * @param poolSize  the recommendation, or 0 when no pool size qualifies
 * @param reasoning the steps of the decision, in words, for the report
 * @param verdicts  per pool size (ascending): why it qualifies or not
 */
public record Recommendation(String target, int poolSize, double bestThroughput, int bestPoolSize, double floor,
                             double marginPercent, List<String> reasoning, List<Verdict> verdicts) {

    /** How one pool size fared. */
    public record Verdict(int poolSize, boolean qualifies, String why) {
    }

    public boolean found() {
        return poolSize > 0;
    }

    /** Decides for the points of one target (pool sizes in any order). */
    public static Recommendation decide(String target, List<SweepPoint> points, double marginPercent, List<String> assertionTexts) {
        return decide(target, points, marginPercent, assertionTexts, null);
    }

    /**
     * As {@link #decide(String, List, double, List)}, and when {@code reference} (direct Postgres) was measured,
     * a last step says how much latency the pooler added at the chosen (or best) pool size.
     */
    public static Recommendation decide(String target, List<SweepPoint> points, double marginPercent, List<String> assertionTexts,
                                        SweepPoint reference) {
        List<SweepPoint> sorted = points.stream().sorted(Comparator.comparingInt(SweepPoint::poolSize)).toList();
        List<SweepPoint> measured = sorted.stream().filter(SweepPoint::measured).toList();
        List<String> why = new ArrayList<>();
        if (measured.isEmpty()) {
            why.add("No pool size produced a measurement" + (sorted.isEmpty() ? "." : ": "
                    + sorted.stream().map(p -> "pool " + p.poolSize() + ": " + (p.failure() != null ? p.failure() : "no requests"))
                    .collect(Collectors.joining("; "))));
            return new Recommendation(target, 0, Double.NaN, 0, Double.NaN, marginPercent, why,
                    sorted.stream().map(p -> new Verdict(p.poolSize(), false, p.failure() != null ? p.failure() : "no requests")).toList());
        }
        SweepPoint best = measured.stream().max(Comparator.comparingDouble(SweepPoint::throughput)
                .thenComparing(Comparator.comparingInt(SweepPoint::poolSize).reversed())).orElseThrow();
        double floor = best.throughput() * (1 - marginPercent / 100.0);
        why.add(String.format(Locale.ROOT, "Best throughput: %s req/s (successful requests) at pool size %d.",
                Fmt.rate(best.throughput()), best.poolSize()));

        List<Verdict> verdicts = new ArrayList<>();
        List<SweepPoint> withinMargin = new ArrayList<>();
        List<SweepPoint> qualifying = new ArrayList<>();
        for (SweepPoint p : sorted) {
            if (!p.measured()) {
                verdicts.add(new Verdict(p.poolSize(), false, p.failure() != null ? p.failure() : "no requests completed"));
                continue;
            }
            if (p.throughput() < floor) {
                verdicts.add(new Verdict(p.poolSize(), false, String.format(Locale.ROOT, "%s req/s is below the floor of %s req/s",
                        Fmt.rate(p.throughput()), Fmt.rate(floor))));
                continue;
            }
            withinMargin.add(p);
            List<AssertionResult> failed = p.result().failures();
            if (!failed.isEmpty()) {
                verdicts.add(new Verdict(p.poolSize(), false, "within the margin, but " + failed.stream()
                        .map(a -> a.description() + " failed (measured " + measuredText(a) + ")").collect(Collectors.joining("; "))));
                continue;
            }
            qualifying.add(p);
            verdicts.add(new Verdict(p.poolSize(), true, String.format(Locale.ROOT, "%s req/s, p99 %s ms, errors %s: qualifies",
                    Fmt.rate(p.throughput()), Fmt.ms(p.p99()), Fmt.percent(p.errorPercent()))));
        }
        why.add(String.format(Locale.ROOT, "Within %s%% of it (at least %s req/s): pool size%s %s.", Fmt.axis(marginPercent),
                Fmt.rate(floor), withinMargin.size() == 1 ? "" : "s", sizes(withinMargin)));
        String rules = assertionTexts.isEmpty() ? "no assertions were given" : String.join("; ", assertionTexts);
        if (qualifying.isEmpty()) {
            why.add("None of these met every assertion (" + rules + "), so no pool size is recommended:"
                    + " raise the limits, lower the load, or try larger pool sizes.");
            compare(why, target, best, reference);
            return new Recommendation(target, 0, best.throughput(), best.poolSize(), floor, marginPercent, why, verdicts);
        }
        why.add("Of these, meeting every assertion (" + rules + "): " + sizes(qualifying) + ".");
        SweepPoint chosen = qualifying.get(0);
        why.add(String.format(Locale.ROOT, "The smallest is %d: recommended pool_size %d (%s req/s, p99 %s ms).",
                chosen.poolSize(), chosen.poolSize(), Fmt.rate(chosen.throughput()), Fmt.ms(chosen.p99())));
        compare(why, target, chosen, reference);
        return new Recommendation(target, chosen.poolSize(), best.throughput(), best.poolSize(), floor, marginPercent, why, verdicts);
    }

    /** What the pooler costs (or saves) against going straight to Postgres. */
    private static void compare(List<String> why, String target, SweepPoint point, SweepPoint reference) {
        if (reference == null || !reference.measured()) {
            return;
        }
        why.add(String.format(Locale.ROOT, "Against %s (%s req/s, p50 %s ms, p99 %s ms), %s at pool size %d measured p50 %s ms (%s)"
                        + " and p99 %s ms (%s).", reference.target(), Fmt.rate(reference.throughput()), Fmt.ms(reference.p50()),
                Fmt.ms(reference.p99()), target, point.poolSize(), Fmt.ms(point.p50()), signed(point.p50() - reference.p50()),
                Fmt.ms(point.p99()), signed(point.p99() - reference.p99())));
    }

    private static String signed(double ms) {
        return (ms >= 0 ? "+" : "−") + Fmt.ms(Math.abs(ms)) + " ms";
    }

    private static String measuredText(AssertionResult a) {
        return Fmt.metric(a.assertion().metric(), a.actual());
    }

    private static String sizes(List<SweepPoint> points) {
        return points.isEmpty() ? "none" : points.stream().map(p -> Integer.toString(p.poolSize())).collect(Collectors.joining(", "));
    }
}
