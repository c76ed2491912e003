package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static dev.pgmux.loadtest.e2e.Fixture.cli;
import static dev.pgmux.loadtest.e2e.Fixture.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code sweep} command end to end: one pgmux process serves every pgmux point, reloaded to each pool size
 * (or one per point with {@code --restart-per-point}), and is stopped at the end.
 */
class SweepEndToEndTest {

    @Test
    void aTwoPointSweepMeasuresEveryPointAndRecommendsAPoolSize() throws Exception {
        Path out = Fixture.outDir("sweep");
        Fixture.Cli r = cli("sweep", "--upstream", Fixture.upstream(), "--targets", "direct,pgmux-session,pgmux-transaction",
                "--pool-sizes", "2,4", "--scenario", "serverless", "--rate", "15", "--duration", "2s",
                "--assert", "p99<5s", "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m",
                "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("pgmux-session: recommended pool_size", "pgmux-transaction: recommended pool_size",
                "pgmux points: one pgmux process for the whole sweep", "pgmux: one process (pid ");
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains("pgmux.jar")).count())
                .as("every pgmux process stopped").isZero();

        JsonNode sweep = json(out.resolve("sweep.json"));
        assertThat(sweep.get("format").asText()).isEqualTo("pgmux-loadtest-sweep/1");
        assertThat(sweep.get("passed").asBoolean()).isTrue();
        assertThat(sweep.get("points")).hasSize(5);
        assertThat(sweep.get("pgmuxPoints").asText()).isEqualTo("reload");
        assertThat(sweep.at("/points/0/name").asText()).isEqualTo("direct");
        assertThat(sweep.at("/points/0/pgmux").isNull()).isTrue();
        Set<Long> pids = new HashSet<>();
        Set<String> setBy = new HashSet<>();
        for (JsonNode p : sweep.get("points")) {
            if (!p.get("pgmux").isNull()) {
                pids.add(p.at("/pgmux/pid").asLong());
                setBy.add(p.at("/pgmux/poolSizeSetBy").asText());
            }
        }
        assertThat(pids).as("one pgmux process for every pgmux point").hasSize(1);
        assertThat(setBy).containsExactlyInAnyOrder("started with pool_size 2", "reload: tenants[loadtest].pool_size: 2 -> 4",
                "reload: tenants[loadtest].pool_size: 4 -> 2");
        Set<String> measured = new HashSet<>();
        for (JsonNode p : sweep.get("points")) {
            assertThat(p.get("count").asLong()).as(p.get("name").asText()).isEqualTo(30 * 2); // 30 users: connect + select
            assertThat(p.get("errors").asLong()).isZero();
            assertThat(p.get("throughput").asDouble()).isPositive();
            assertThat(out.resolve(p.get("report").asText())).isRegularFile();
            measured.add(p.get("name").asText());
        }
        assertThat(measured).containsExactlyInAnyOrder("direct", "pgmux-session pool 2", "pgmux-session pool 4",
                "pgmux-transaction pool 2", "pgmux-transaction pool 4");
        assertThat(out.resolve("pgmux.log")).isRegularFile();
        assertThat(out.resolve("points/pgmux-transaction-pool-4/pgmux.log")).doesNotExist();
        assertThat(sweep.get("assertions").toString()).contains("global p99 < 5000 ms", "global errors < 1% (added by the sweep)");

        assertThat(sweep.get("recommendations")).hasSize(2);
        for (JsonNode rec : sweep.get("recommendations")) {
            assertThat(rec.get("poolSize").asInt()).isIn(2, 4);
            assertThat(rec.get("reasoning").toString()).contains("Best throughput", "recommended pool_size", "Against direct");
        }
        String html = Files.readString(out.resolve("sweep.html"));
        assertThat(html).contains("recommended pool_size", "Throughput by pool size", "p99 response time by pool size",
                "points/pgmux-session-pool-2/report.html", "pgmux points: one pgmux process for the whole sweep",
                "reload: tenants[loadtest].pool_size: 2 -&gt; 4");
        assertThat(json(out.resolve("points/pgmux-transaction-pool-4/report.json")).get("configuration").toString())
                .contains("pgmux process", "pid " + pids.iterator().next(), "reload: tenants[loadtest].pool_size: 2 -> 4");
    }

    @Test
    void withRestartPerPointEveryPointHasAPgmuxOfItsOwn() throws Exception {
        Path out = Fixture.outDir("sweep-restart");
        Fixture.Cli r = cli("sweep", "--upstream", Fixture.upstream(), "--targets", "pgmux-transaction", "--pool-sizes", "2,4",
                "--restart-per-point", "--scenario", "serverless", "--rate", "10", "--duration", "1s",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("pgmux: a fresh process for each of the 2 pgmux points (--restart-per-point");
        JsonNode sweep = json(out.resolve("sweep.json"));
        assertThat(sweep.get("pgmuxPoints").asText()).isEqualTo("restart");
        assertThat(sweep.at("/points/0/pgmux/pid").asLong()).isNotEqualTo(sweep.at("/points/1/pgmux/pid").asLong());
        assertThat(sweep.at("/points/0/pgmux/poolSizeSetBy").asText()).isEqualTo("started with pool_size 2");
        assertThat(sweep.at("/points/1/pgmux/poolSizeSetBy").asText()).isEqualTo("started with pool_size 4");
        assertThat(out.resolve("points/pgmux-transaction-pool-2/pgmux.log")).isRegularFile();
        assertThat(out.resolve("points/pgmux-transaction-pool-4/pgmux.log")).isRegularFile();
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains("pgmux.jar")).count())
                .as("every pgmux process stopped").isZero();
    }

    @Test
    void whenNoPoolSizeMeetsTheAssertionsTheSweepSaysSoAndExitsNonZero() throws Exception {
        Path out = Fixture.outDir("sweep-none");
        Fixture.Cli r = cli("sweep", "--upstream", Fixture.upstream(), "--targets", "pgmux-transaction", "--pool-sizes", "2",
                "--scenario", "select-only", "--users", "2", "--duration", "1s", "--assert", "p50<0.0001ms",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m", "--quiet", "--out", out.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("no pool size met every assertion for pgmux-transaction");
        JsonNode sweep = json(out.resolve("sweep.json"));
        assertThat(sweep.at("/recommendations/0/poolSize").isNull()).isTrue();
        assertThat(sweep.at("/recommendations/0/verdicts/0/why").asText()).contains("global p50 < 0.0001 ms failed");
        assertThat(Files.readString(out.resolve("sweep.html"))).contains("no pool size qualifies");
    }
}
