package dev.pgmux.loadtest.report;

import com.fasterxml.jackson.core.JsonGenerator;
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

import java.io.IOException;
import java.util.List;
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
        return Json.render(g -> write(g, result, true));
    }

    /** Writes the run as one object; {@code withIntervals} false leaves the timeline out (for sweep summaries). */
    static void write(JsonGenerator g, RunResult result, boolean withIntervals) throws IOException {
        RunInfo info = result.info();
        RunStats s = result.stats();
        g.writeStartObject();
        g.writeStringField("format", FORMAT);
        g.writeStringField("name", info.name());
        g.writeStringField("simulation", info.simulation());
        g.writeStringField("target", info.target());
        g.writeStringField("startedAt", info.startedAt().toString());
        Json.number(g, "plannedSeconds", info.plannedSeconds());
        Json.number(g, "warmupSeconds", info.warmupSeconds());
        Json.number(g, "measuredSeconds", s.measuredSeconds());
        Json.number(g, "elapsedSeconds", result.elapsedSeconds());
        g.writeBooleanField("passed", result.passed());
        strings(g, "populations", info.populations());
        strings(g, "configuration", info.configuration());

        g.writeObjectFieldStart("global");
        stats(g, s.global());
        Json.number(g, "requestsPerSecond", s.globalRequestsPerSecond());
        Json.number(g, "okRequestsPerSecond", s.okRequestsPerSecond());
        g.writeEndObject();

        g.writeArrayFieldStart("requests");
        for (RequestSummary r : s.requests()) {
            g.writeStartObject();
            g.writeStringField("name", r.name());
            g.writeStringField("kind", r.kind().label());
            stats(g, r.stats());
            Json.number(g, "requestsPerSecond", r.requestsPerSecond());
            g.writeEndObject();
        }
        g.writeEndArray();

        g.writeArrayFieldStart("errors");
        for (ErrorSummary e : s.errors()) {
            g.writeStartObject();
            g.writeStringField("sqlState", e.key().sqlState());
            g.writeStringField("message", e.key().message());
            g.writeNumberField("count", e.count());
            g.writeObjectFieldStart("requests");
            for (Map.Entry<String, Long> byRequest : new TreeMap<>(e.byRequest()).entrySet()) {
                g.writeNumberField(byRequest.getKey(), byRequest.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndArray();

        g.writeArrayFieldStart("assertions");
        for (AssertionResult a : result.assertions()) {
            g.writeStartObject();
            g.writeStringField("description", a.description());
            g.writeStringField("metric", a.assertion().metric().label());
            g.writeStringField("comparison", a.assertion().comparison().symbol());
            Json.number(g, "threshold", a.assertion().threshold());
            g.writeStringField("unit", a.assertion().metric().unit());
            Json.number(g, "actual", a.actual());
            g.writeBooleanField("passed", a.passed());
            g.writeEndObject();
        }
        g.writeEndArray();

        GeneratorStats gen = result.generator();
        g.writeObjectFieldStart("generator");
        g.writeNumberField("usersStarted", gen.usersStarted());
        g.writeNumberField("usersFinished", gen.usersFinished());
        g.writeNumberField("usersDropped", gen.usersDropped());
        g.writeNumberField("usersStoppedAtDeadline", gen.usersStoppedAtDeadline());
        g.writeBooleanField("openModel", gen.openModel());
        Json.number(g, "startLagP99Ms", gen.startLagP99Ms());
        Json.number(g, "startLagMaxMs", gen.startLagMaxMs());
        g.writeEndObject();

        g.writeArrayFieldStart("distribution");
        for (Distribution.Bucket b : s.distribution()) {
            g.writeStartObject();
            Json.number(g, "fromMs", b.fromMs());
            Json.number(g, "toMs", b.toMs());
            g.writeNumberField("count", b.count());
            g.writeBooleanField("openEnded", b.openEnded());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("percentiles");
        for (Distribution.PercentilePoint p : s.percentiles()) {
            g.writeStartObject();
            Json.number(g, "percentile", p.percentile());
            Json.number(g, "ms", p.ms());
            g.writeEndObject();
        }
        g.writeEndArray();

        if (withIntervals) {
            g.writeArrayFieldStart("intervals");
            for (IntervalSnapshot i : s.intervals()) {
                interval(g, i);
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    private static void interval(JsonGenerator g, IntervalSnapshot i) throws IOException {
        g.writeStartObject();
        g.writeNumberField("index", i.index());
        Json.number(g, "start", i.startSeconds());
        Json.number(g, "end", i.endSeconds());
        g.writeBooleanField("warmup", i.warmup());
        g.writeNumberField("activeUsers", i.users().active());
        g.writeNumberField("startedUsers", i.users().started());
        g.writeNumberField("finishedUsers", i.users().finished());
        g.writeNumberField("droppedUsers", i.users().dropped());
        Json.number(g, "requestsPerSecond", i.requestsPerSecond());
        LatencyStats all = i.global();
        g.writeNumberField("count", all.count());
        g.writeNumberField("errors", all.errors());
        Json.number(g, "p50Ms", all.p50());
        Json.number(g, "p95Ms", all.p95());
        Json.number(g, "p99Ms", all.p99());
        Json.number(g, "maxMs", all.max());
        g.writeObjectFieldStart("requests");
        for (Map.Entry<String, LatencyStats> e : i.requests().entrySet()) {
            LatencyStats r = e.getValue();
            g.writeObjectFieldStart(e.getKey());
            g.writeNumberField("count", r.count());
            g.writeNumberField("errors", r.errors());
            Json.number(g, "p50Ms", r.p50());
            Json.number(g, "p99Ms", r.p99());
            Json.number(g, "maxMs", r.max());
            g.writeEndObject();
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** The latency fields of {@code global}, each request, and each sweep point. */
    static void stats(JsonGenerator g, LatencyStats s) throws IOException {
        g.writeNumberField("count", s.count());
        g.writeNumberField("ok", s.ok());
        g.writeNumberField("errors", s.errors());
        Json.number(g, "errorPercent", s.errorPercent());
        Json.number(g, "minMs", s.min());
        Json.number(g, "meanMs", s.mean());
        Json.number(g, "p50Ms", s.p50());
        Json.number(g, "p75Ms", s.p75());
        Json.number(g, "p95Ms", s.p95());
        Json.number(g, "p99Ms", s.p99());
        Json.number(g, "p999Ms", s.p999());
        Json.number(g, "maxMs", s.max());
        Json.number(g, "stdDevMs", s.stdDev());
    }

    /** An array of strings. */
    static void strings(JsonGenerator g, String name, List<String> values) throws IOException {
        g.writeArrayFieldStart(name);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    /** An object of string values, in the map's order. */
    static void strings(JsonGenerator g, String name, Map<String, String> values) throws IOException {
        g.writeObjectFieldStart(name);
        for (Map.Entry<String, String> e : values.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }
}
