package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.Fmt;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static dev.pgmux.loadtest.e2e.Fixture.cli;
import static dev.pgmux.loadtest.e2e.Fixture.json;
import static dev.pgmux.loadtest.e2e.Fixture.request;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code run} command end to end: real pgjdbc and HikariCP traffic through a pgmux process in front of
 * the real test Postgres, a few seconds per run.
 */
class RunEndToEndTest {
    private static String upstream;
    private static PgmuxLauncher.RunningPgmux pgmux;

    @BeforeAll
    static void startPgmux() throws Exception {
        upstream = Fixture.upstream();
        PgmuxLauncher launcher = new PgmuxLauncher(Fixture.pgmuxJar(), List.of("-Xmx256m"), Map.of());
        pgmux = launcher.start(Target.parse(upstream, null, null), 4, Fixture.outDir("pgmux").resolve("pgmux.log"));
    }

    @AfterAll
    static void stopPgmux() {
        if (pgmux != null) {
            pgmux.close();
            assertThat(pgmux.process().isAlive()).isFalse();
        }
    }

    private static String transactionUrl() {
        return upstream.replaceFirst(":\\d+/postgres$", ":" + pgmux.ports().transaction() + "/postgres");
    }

    private static String sessionUrl() {
        return upstream.replaceFirst(":\\d+/postgres$", ":" + pgmux.ports().session() + "/postgres");
    }

    @Test
    void tpcbThroughAPgmuxTheRunCommandStartsItself() throws Exception {
        Path out = Fixture.outDir("tpcb");
        Fixture.Cli r = cli("run", "--target", "pgmux-transaction", "--upstream", upstream, "--pool-size", "3",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m",
                "--scenario", "tpcb", "--users", "4", "--duration", "3s",
                "--assert", "p99<5s", "--assert", "errors<1%", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("pgmux started", "0:01/0:03", "0:03/0:03", "Assertions:", "passed  global p99 < 5000 ms");

        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.get("passed").asBoolean()).isTrue();
        assertThat(report.at("/global/count").asLong()).isPositive();
        assertThat(report.at("/global/errors").asLong()).isZero();
        assertThat(report.at("/configuration/pgmux pool_size").asText()).isEqualTo("3");
        long transactions = request(report, "tpcb transaction").get("count").asLong();
        assertThat(transactions).isPositive();
        for (String statement : List.of("update account", "select account", "update teller", "update branch", "insert history")) {
            assertThat(request(report, statement).get("count").asLong()).as(statement).isEqualTo(transactions);
        }
        assertThat(request(report, "connect").get("count").asLong()).isEqualTo(4);
        // the traffic was real: every committed transaction left its row (the history is emptied before each run)
        try (Connection c = TestPostgres.get().connect(TestPostgres.SCRAM); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM loadtest_history")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(transactions);
        }
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains(Fmt.count(report.at("/global/count").asLong()), "tpcb transaction", "PASSED");
        assertThat(out.resolve("pgmux.log")).isRegularFile();
    }

    @Test
    void serverlessConnectPerRequestInTheOpenModelThroughTheSessionPort() throws Exception {
        Path out = Fixture.outDir("serverless");
        Fixture.Cli r = cli("run", "--url", sessionUrl(), "--scenario", "serverless", "--rate", "20", "--duration", "2s",
                "--prepare-threshold", "1", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.at("/generator/usersStarted").asLong()).isEqualTo(40); // 20 per second for 2 s, exactly
        assertThat(report.at("/generator/openModel").asBoolean()).isTrue();
        assertThat(request(report, "connect").get("count").asLong()).isEqualTo(40);
        assertThat(request(report, "select account").get("count").asLong()).isEqualTo(40);
        assertThat(report.at("/global/errors").asLong()).isZero();
        assertThat(report.at("/populations/0").asText()).isEqualTo("serverless: constantUsersPerSec(20).during(2s)");
    }

    @Test
    void appServersWithHikariPoolsThroughTheTransactionPort() throws Exception {
        Path out = Fixture.outDir("app-servers");
        Fixture.Cli r = cli("run", "--url", transactionUrl(), "--scenario", "app-servers", "--rate", "25", "--duration", "2s",
                "--app-instances", "2", "--app-pool-size", "2", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertThat(request(report, "connect").get("count").asLong()).isEqualTo(50); // one checkout per request
        assertThat(request(report, "write transaction").get("count").asLong()).isEqualTo(50);
        assertThat(report.at("/global/errors").asLong()).isZero();
        assertThat(report.at("/configuration/driver (app-servers)").asText()).contains("HikariCP, 2 app instances x pool of 2");
    }

    @Test
    void namedPreparedStatementsThroughTheTransactionPort() throws Exception {
        Path out = Fixture.outDir("prepared");
        Fixture.Cli r = cli("run", "--url", transactionUrl(), "--scenario", "prepared", "--users", "3", "--duration", "2s",
                "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        long rounds = request(report, "select account").get("count").asLong();
        assertThat(rounds).isGreaterThan(10);
        assertThat(request(report, "select tellers").get("count").asLong()).isEqualTo(rounds);
        assertThat(request(report, "sum accounts").get("count").asLong()).isEqualTo(rounds);
        assertThat(report.at("/global/errors").asLong()).isZero();
        assertThat(report.at("/configuration/driver (prepared)").asText()).contains("prepareThreshold=1");
    }

    @Test
    void aFailedAssertionExitsNonZeroAndNamesTheAssertion() throws Exception {
        Path out = Fixture.outDir("failing");
        Fixture.Cli r = cli("run", "--url", upstream, "--scenario", "select-only", "--users", "2", "--duration", "1s",
                "--assert", "p50<0.0001ms", "--assert", "errors<1%", "--quiet", "--out", out.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("1 assertion(s) failed", "global p50 < 0.0001 ms (measured ");
        assertThat(r.out()).contains("FAILED  global p50 < 0.0001 ms", "passed  global errors < 1%");
        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.get("passed").asBoolean()).isFalse();
        assertThat(report.at("/assertions/0/passed").asBoolean()).isFalse();
        assertThat(report.at("/assertions/1/passed").asBoolean()).isTrue();
        assertThat(Files.readString(out.resolve("report.html"))).contains("FAILED · 1 of 2 assertions");
    }
}
