package dev.pgmux.loadtest.report;

import dev.pgmux.loadtest.engine.AssertionResult;
import dev.pgmux.loadtest.engine.GeneratorStats;
import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.stats.Distribution;
import dev.pgmux.loadtest.stats.ErrorSummary;
import dev.pgmux.loadtest.stats.IntervalSnapshot;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RequestSummary;
import dev.pgmux.loadtest.stats.RunStats;

import java.util.Map;
import java.util.TreeMap;

/**
 * A run as JSON ({@code report.json}): the same numbers as the HTML report, for scripts and CI. Times are
 * milliseconds (fields ending in {@code Ms}) or seconds since the start; rates are per second.
 */
public final class JsonReport {
    public static final String FORMAT = "pgmux-loadtest-run/1";

    private JsonReport() {}

    public static String render(RunResult result) {
        JsonWriter w = new JsonWriter(true);
        write(w, result, true);
        return w.toString() + "\n";
    }

    /** Writes the run as one object; {@code withIntervals} false leaves the timeline out (for sweep summaries). */
    static void write(JsonWriter w, RunResult result, boolean withIntervals) {
        RunInfo info = result.info();
        RunStats s = result.stats();
        w.beginObject();
        w.field("format", FORMAT);
        w.field("name", info.name());
        w.field("simulation", info.simulation());
        w.field("target", info.target());
        w.field("startedAt", info.startedAt().toString());
        w.field("plannedSeconds", info.plannedSeconds());
        w.field("warmupSeconds", info.warmupSeconds());
        w.field("measuredSeconds", s.measuredSeconds());
        w.field("elapsedSeconds", result.elapsedSeconds());
        w.field("passed", result.passed());
        w.name("populations").beginArray();
        info.populations().forEach(w::value);
        w.endArray();
        w.name("configuration").beginObject();
        info.configuration().forEach(w::field);
        w.endObject();

        w.name("global").beginObject();
        stats(w, s.global());
        w.field("requestsPerSecond", s.globalRequestsPerSecond());
        w.field("okRequestsPerSecond", s.okRequestsPerSecond());
        w.endObject();

        w.name("requests").beginArray();
        for (RequestSummary r : s.requests()) {
            w.beginObject();
            w.field("name", r.name());
            w.field("kind", r.kind().label());
            stats(w, r.stats());
            w.field("requestsPerSecond", r.requestsPerSecond());
            w.endObject();
        }
        w.endArray();

        w.name("errors").beginArray();
        for (ErrorSummary e : s.errors()) {
            w.beginObject();
            w.field("sqlState", e.key().sqlState());
            w.field("message", e.key().message());
            w.field("count", e.count());
            w.name("requests").beginObject();
            new TreeMap<>(e.byRequest()).forEach(w::field);
            w.endObject();
            w.endObject();
        }
        w.endArray();

        w.name("assertions").beginArray();
        for (AssertionResult a : result.assertions()) {
            w.beginObject();
            w.field("description", a.description());
            w.field("metric", a.assertion().metric().label());
            w.field("comparison", a.assertion().comparison().symbol());
            w.field("threshold", a.assertion().threshold());
            w.field("unit", a.assertion().metric().unit());
            w.field("actual", a.actual());
            w.field("passed", a.passed());
            w.endObject();
        }
        w.endArray();

        GeneratorStats g = result.generator();
        w.name("generator").beginObject();
        w.field("usersStarted", g.usersStarted());
        w.field("usersFinished", g.usersFinished());
        w.field("usersDropped", g.usersDropped());
        w.field("usersStoppedAtDeadline", g.usersStoppedAtDeadline());
        w.field("openModel", g.openModel());
        w.field("startLagP99Ms", g.startLagP99Ms());
        w.field("startLagMaxMs", g.startLagMaxMs());
        w.endObject();

        w.name("distribution").beginArray();
        for (Distribution.Bucket b : s.distribution()) {
            w.beginObject().field("fromMs", b.fromMs()).field("toMs", b.toMs()).field("count", b.count())
                    .field("openEnded", b.openEnded()).endObject();
        }
        w.endArray();
        w.name("percentiles").beginArray();
        for (Distribution.PercentilePoint p : s.percentiles()) {
            w.beginObject().field("percentile", p.percentile()).field("ms", p.ms()).endObject();
        }
        w.endArray();

        if (withIntervals) {
            w.name("intervals").beginArray();
            for (IntervalSnapshot i : s.intervals()) {
                interval(w, i);
            }
            w.endArray();
        }
        w.endObject();
    }

    private static void interval(JsonWriter w, IntervalSnapshot i) {
        w.beginObject();
        w.field("index", i.index());
        w.field("start", i.startSeconds());
        w.field("end", i.endSeconds());
        w.field("warmup", i.warmup());
        w.field("activeUsers", i.users().active());
        w.field("startedUsers", i.users().started());
        w.field("finishedUsers", i.users().finished());
        w.field("droppedUsers", i.users().dropped());
        w.field("requestsPerSecond", i.requestsPerSecond());
        LatencyStats g = i.global();
        w.field("count", g.count());
        w.field("errors", g.errors());
        w.field("p50Ms", g.p50());
        w.field("p95Ms", g.p95());
        w.field("p99Ms", g.p99());
        w.field("maxMs", g.max());
        w.name("requests").beginObject();
        for (Map.Entry<String, LatencyStats> e : i.requests().entrySet()) {
            LatencyStats r = e.getValue();
            w.name(e.getKey()).beginObject().field("count", r.count()).field("errors", r.errors())
                    .field("p50Ms", r.p50()).field("p99Ms", r.p99()).field("maxMs", r.max()).endObject();
        }
        w.endObject();
        w.endObject();
    }

    static void stats(JsonWriter w, LatencyStats s) {
        w.field("count", s.count());
        w.field("ok", s.ok());
        w.field("errors", s.errors());
        w.field("errorPercent", s.errorPercent());
        w.field("minMs", s.min());
        w.field("meanMs", s.mean());
        w.field("p50Ms", s.p50());
        w.field("p75Ms", s.p75());
        w.field("p95Ms", s.p95());
        w.field("p99Ms", s.p99());
        w.field("p999Ms", s.p999());
        w.field("maxMs", s.max());
        w.field("stdDevMs", s.stdDev());
    }
}
