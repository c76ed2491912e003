package dev.pgmux.loadtest.report;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.pgmux.loadtest.engine.AssertionResult;
import dev.pgmux.loadtest.sweep.Recommendation;
import dev.pgmux.loadtest.sweep.SweepPoint;
import dev.pgmux.loadtest.sweep.SweepResult;

import java.io.IOException;

/** A sweep as JSON ({@code sweep.json}): every point's figures and each recommendation with its reasoning. */
public final class SweepJsonReport {
    public static final String FORMAT = "pgmux-loadtest-sweep/1";

    private SweepJsonReport() {}

    public static String render(SweepResult r) {
        return Json.render(g -> write(g, r));
    }

    private static void write(JsonGenerator g, SweepResult r) throws IOException {
        g.writeStartObject();
        g.writeStringField("format", FORMAT);
        g.writeStringField("name", r.name());
        g.writeStringField("simulation", r.simulation());
        g.writeStringField("startedAt", r.startedAt().toString());
        Json.number(g, "elapsedSeconds", r.elapsedSeconds());
        g.writeStringField("upstream", r.upstream());
        g.writeBooleanField("passed", r.passed());
        g.writeStringField("pgmuxPoints", r.pgmuxPoints() == null ? null : r.pgmuxPoints().id());
        JsonReport.strings(g, "targets", r.targets());
        g.writeArrayFieldStart("poolSizes");
        for (int size : r.poolSizes()) {
            g.writeNumber(size);
        }
        g.writeEndArray();
        Json.number(g, "marginPercent", r.marginPercent());
        JsonReport.strings(g, "assertions", r.assertions());
        JsonReport.strings(g, "warnings", r.warnings());
        JsonReport.strings(g, "configuration", r.configuration());

        g.writeArrayFieldStart("recommendations");
        for (Recommendation rec : r.recommendations()) {
            recommendation(g, rec);
        }
        g.writeEndArray();

        g.writeArrayFieldStart("points");
        for (SweepPoint p : r.points()) {
            point(g, p);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void recommendation(JsonGenerator g, Recommendation rec) throws IOException {
        g.writeStartObject();
        g.writeStringField("target", rec.target());
        g.writeFieldName("poolSize");
        if (rec.found()) {
            g.writeNumber(rec.poolSize());
        } else {
            g.writeNull();
        }
        Json.number(g, "bestThroughput", rec.bestThroughput());
        g.writeNumberField("bestPoolSize", rec.bestPoolSize());
        Json.number(g, "throughputFloor", rec.floor());
        Json.number(g, "marginPercent", rec.marginPercent());
        JsonReport.strings(g, "reasoning", rec.reasoning());
        g.writeArrayFieldStart("verdicts");
        for (Recommendation.Verdict v : rec.verdicts()) {
            g.writeStartObject();
            g.writeNumberField("poolSize", v.poolSize());
            g.writeBooleanField("qualifies", v.qualifies());
            g.writeStringField("why", v.why());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void point(JsonGenerator g, SweepPoint p) throws IOException {
        g.writeStartObject();
        g.writeStringField("target", p.target());
        g.writeFieldName("poolSize");
        if (p.reference()) {
            g.writeNull();
        } else {
            g.writeNumber(p.poolSize());
        }
        g.writeStringField("name", p.name());
        g.writeStringField("report", p.reportPath());
        g.writeStringField("failure", p.failure());
        g.writeBooleanField("passed", p.passed());
        g.writeFieldName("pgmux");
        if (p.pgmux() == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            g.writeNumberField("pid", p.pgmux().pid());
            g.writeStringField("startedAt", p.pgmux().startedAt().toString());
            g.writeStringField("poolSizeSetBy", p.pgmux().poolSizeSetBy());
            g.writeEndObject();
        }
        if (p.result() != null) {
            Json.number(g, "throughput", p.throughput());
            Json.number(g, "requestsPerSecond", p.result().stats().globalRequestsPerSecond());
            JsonReport.stats(g, p.result().stats().global());
            g.writeArrayFieldStart("failedAssertions");
            for (AssertionResult a : p.result().failures()) {
                g.writeString(a.description());
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }
}
