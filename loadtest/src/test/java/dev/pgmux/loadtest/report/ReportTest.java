package dev.pgmux.loadtest.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgmux.loadtest.engine.AssertionChecker;
import dev.pgmux.loadtest.engine.AssertionResult;
import dev.pgmux.loadtest.engine.GeneratorStats;
import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.stats.ErrorKey;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RequestKind;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.stats.StatsCollector;
import dev.pgmux.loadtest.stats.UserCounts;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static dev.pgmux.loadtest.dsl.Dsl.global;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The reports carry the measured numbers: JSON parsed back, HTML searched for them; and the HTML needs no network. */
class ReportTest {
    private static final long MS = 1_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    static RunResult sample() {
        StatsCollector c = new StatsCollector(0, 0);
        for (int second = 0; second < 3; second++) {
            long base = second * 1_000 * MS;
            for (int i = 1; i <= 200 * (second + 1); i++) {
                c.record("select <account>", RequestKind.QUERY, base, base + (i % 50 + 1) * 100_000L, null);
            }
            c.record("connect", RequestKind.CONNECT, base, base + 25 * MS, null);
            c.record("update", RequestKind.QUERY, base, base + 7 * MS,
                    second == 2 ? new ErrorKey("40001", "could not serialize access due to \"concurrent\" update") : null);
            c.record("tx", RequestKind.TRANSACTION, base, base + 9 * MS, null);
            c.tick(base + 1_000 * MS, new UserCounts(4 + second, 4 + second, 0, 0));
        }
        RunStats stats = c.finish();
        List<AssertionResult> assertions = AssertionChecker.check(List.of(global().responseTime().percentile(99).lt(50),
                global().failedRequests().percent().lt(0.01)), stats);
        Map<String, String> config = new LinkedHashMap<>();
        config.put("scenario", "tpcb: <script>alert(1)</script>");
        config.put("--users", "4");
        RunInfo info = new RunInfo("sample run", "tpcb", "postgresql://app@127.0.0.1:6543/postgres",
                Instant.parse("2025-01-02T03:04:05Z"), 3, 0, List.of("tpcb: constantConcurrentUsers(4).during(3s)"), config);
        return new RunResult(info, stats, assertions, new GeneratorStats(7, 7, 0, 0, false, 0, 0), 3.2);
    }

    @Test
    void theJsonHoldsTheMeasuredNumbers() throws Exception {
        RunResult r = sample();
        JsonNode j = JSON.readTree(JsonReport.render(r));
        LatencyStats g = r.stats().global();
        assertThat(j.get("format").asText()).isEqualTo("pgmux-loadtest-run/1");
        assertThat(j.get("passed").asBoolean()).isFalse();
        assertThat(j.at("/global/count").asLong()).isEqualTo(g.count()).isEqualTo(1200 + 3 + 3);
        assertThat(j.at("/global/errors").asLong()).isEqualTo(1);
        assertThat(j.at("/global/p50Ms").asDouble()).isEqualTo(g.p50());
        assertThat(j.at("/global/p99Ms").asDouble()).isEqualTo(g.p99());
        assertThat(j.at("/global/maxMs").asDouble()).isEqualTo(g.max()).isCloseTo(25.0, within(0.025));
        assertThat(j.at("/global/requestsPerSecond").asDouble()).isCloseTo(r.stats().globalRequestsPerSecond(), within(1e-6));
        assertThat(j.get("requests")).hasSize(4);
        JsonNode select = j.get("requests").get(0);
        assertThat(select.get("name").asText()).isEqualTo("select <account>");
        assertThat(select.get("kind").asText()).isEqualTo("query");
        assertThat(select.get("count").asLong()).isEqualTo(1200);
        assertThat(select.get("p95Ms").asDouble()).isEqualTo(r.stats().request("select <account>").orElseThrow().stats().p95());
        assertThat(j.at("/requests/3/kind").asText()).isEqualTo("transaction");
        assertThat(j.at("/errors/0/sqlState").asText()).isEqualTo("40001");
        assertThat(j.at("/errors/0/message").asText()).isEqualTo("could not serialize access due to \"concurrent\" update");
        assertThat(j.at("/errors/0/requests/update").asLong()).isEqualTo(1);
        assertThat(j.get("intervals")).hasSize(3);
        assertThat(j.at("/intervals/2/count").asLong()).isEqualTo(600 + 2);
        assertThat(j.at("/intervals/2/activeUsers").asInt()).isEqualTo(6);
        assertThat(j.at("/intervals/0/requests/connect/count").asLong()).isEqualTo(1);
        assertThat(j.at("/assertions/0/description").asText()).isEqualTo("global p99 < 50 ms");
        assertThat(j.at("/assertions/0/passed").asBoolean()).isTrue();
        assertThat(j.at("/assertions/1/passed").asBoolean()).isFalse();
        assertThat(j.at("/assertions/1/actual").asDouble()).isCloseTo(100.0 / 1206, within(1e-6));
        long bucketTotal = 0;
        for (JsonNode b : j.get("distribution")) {
            bucketTotal += b.get("count").asLong();
        }
        assertThat(bucketTotal).isEqualTo(g.count());
        assertThat(j.at("/configuration/--users").asText()).isEqualTo("4");
    }

    @Test
    void theHtmlShowsTheNumbersEscaped() {
        RunResult r = sample();
        String html = HtmlReport.render(r, "test");
        LatencyStats g = r.stats().global();
        assertThat(html).startsWith("<!DOCTYPE html>").contains("</html>");
        assertThat(html).contains("sample run", Fmt.count(g.count()), Fmt.ms(g.p50()), Fmt.ms(g.p99()), Fmt.ms(g.max()),
                Fmt.rate(r.stats().globalRequestsPerSecond()));
        assertThat(html).contains("select &lt;account&gt;").doesNotContain("select <account>");
        assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>alert(1)");
        assertThat(html).contains("40001", "could not serialize access due to &quot;concurrent&quot; update");
        assertThat(html).contains("FAILED · 1 of 2 assertions", "global errors &lt; 0.01%");
        assertThat(html).contains("Response time percentiles over time", "Throughput and active users",
                "Response-time distribution", "Response time by percentile");
        assertThat(count(html, "<svg ")).isEqualTo(4);
    }

    @Test
    void theHtmlNeedsNoNetwork() {
        String html = HtmlReport.render(sample(), "test");
        assertSelfContained(html);
    }

    static void assertSelfContained(String html) {
        // the only URL allowed is the SVG namespace, which is a name, not a fetch
        String withoutNamespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assertThat(withoutNamespace).doesNotContainPattern(Pattern.compile("https?://"));
        assertThat(html).doesNotContainPattern(Pattern.compile("<(script|link|img|iframe)[^>]+(src|href)=", Pattern.CASE_INSENSITIVE));
        assertThat(html).doesNotContain("@import").doesNotContain("url(");
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
