package dev.pgmux.loadtest.report;

import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.sweep.Recommendation;
import dev.pgmux.loadtest.sweep.SweepPoint;
import dev.pgmux.loadtest.sweep.SweepResult;

/** A sweep as JSON ({@code sweep.json}): every point's figures and each recommendation with its reasoning. */
public final class SweepJsonReport {
    public static final String FORMAT = "pgmux-loadtest-sweep/1";

    private SweepJsonReport() {}

    public static String render(SweepResult r) {
        JsonWriter w = new JsonWriter(true);
        w.beginObject();
        w.field("format", FORMAT);
        w.field("name", r.name());
        w.field("simulation", r.simulation());
        w.field("startedAt", r.startedAt().toString());
        w.field("elapsedSeconds", r.elapsedSeconds());
        w.field("upstream", r.upstream());
        w.field("passed", r.passed());
        w.name("targets").beginArray();
        r.targets().forEach(w::value);
        w.endArray();
        w.name("poolSizes").beginArray();
        r.poolSizes().forEach(w::value);
        w.endArray();
        w.field("marginPercent", r.marginPercent());
        w.name("assertions").beginArray();
        r.assertions().forEach(w::value);
        w.endArray();
        w.name("warnings").beginArray();
        r.warnings().forEach(w::value);
        w.endArray();
        w.name("configuration").beginObject();
        r.configuration().forEach(w::field);
        w.endObject();

        w.name("recommendations").beginArray();
        for (Recommendation rec : r.recommendations()) {
            w.beginObject();
            w.field("target", rec.target());
            w.name("poolSize");
            if (rec.found()) {
                w.value(rec.poolSize());
            } else {
                w.nullValue();
            }
            w.field("bestThroughput", rec.bestThroughput());
            w.field("bestPoolSize", rec.bestPoolSize());
            w.field("throughputFloor", rec.floor());
            w.field("marginPercent", rec.marginPercent());
            w.name("reasoning").beginArray();
            rec.reasoning().forEach(w::value);
            w.endArray();
            w.name("verdicts").beginArray();
            for (Recommendation.Verdict v : rec.verdicts()) {
                w.beginObject().field("poolSize", v.poolSize()).field("qualifies", v.qualifies()).field("why", v.why()).endObject();
            }
            w.endArray();
            w.endObject();
        }
        w.endArray();

        w.name("points").beginArray();
        for (SweepPoint p : r.points()) {
            w.beginObject();
            w.field("target", p.target());
            w.name("poolSize");
            if (p.reference()) {
                w.nullValue();
            } else {
                w.value(p.poolSize());
            }
            w.field("name", p.name());
            w.field("report", p.reportPath());
            w.field("failure", p.failure());
            w.field("passed", p.passed());
            if (p.result() != null) {
                LatencyStats g = p.result().stats().global();
                w.field("throughput", p.throughput());
                w.field("requestsPerSecond", p.result().stats().globalRequestsPerSecond());
                JsonReport.stats(w, g);
                w.name("failedAssertions").beginArray();
                p.result().failures().forEach(a -> w.value(a.description()));
                w.endArray();
            }
            w.endObject();
        }
        w.endArray();
        w.endObject();
        return w.toString() + "\n";
    }
}
