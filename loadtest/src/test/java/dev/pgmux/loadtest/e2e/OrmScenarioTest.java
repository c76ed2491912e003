package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgmux.loadtest.dsl.Driver;
import dev.pgmux.loadtest.dsl.Session;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.dsl.Step;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.scenarios.BuiltInScenario;
import dev.pgmux.loadtest.scenarios.OrmWorkload;
import dev.pgmux.loadtest.scenarios.PgbenchSchema;
import dev.pgmux.loadtest.scenarios.PgbenchShape;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static dev.pgmux.loadtest.e2e.Fixture.cli;
import static dev.pgmux.loadtest.e2e.Fixture.json;
import static dev.pgmux.loadtest.e2e.Fixture.request;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code orm} scenario against the real Postgres: every result checked, through pgmux's transaction port; and a
 * wrong answer, from a wrong expectation or from a row that is not there, counted as an error.
 */
class OrmScenarioTest {
    private static final Set<String> TELLER_COUNTING = Set.of("tellers of branch", "account, branch and tellers",
            "tellers per branch");
    private static final Set<String> TELLER_BY_NUMBER = Set.of("teller by id", "teller with branch", "adjust teller",
            "tellers like pattern", "transfer", "transfer: update teller");

    @Test
    void theMixRunsThroughPgmuxsTransactionPortWithEveryResultChecked() throws Exception {
        Path out = Fixture.outDir("orm");
        Fixture.Cli r = cli("run", "--target", "pgmux-transaction", "--upstream", Fixture.upstream(), "--pool-size", "2",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m",
                "--scenario", "orm", "--users", "4", "--duration", "4s", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.at("/global/errors").asLong()).as(report.get("errors").toString()).isZero();
        assertThat(report.at("/configuration/scenario").asText()).startsWith("orm: ");
        assertThat(report.toString()).contains("prepareThreshold=0");

        Map<String, Long> counts = new HashMap<>();
        long total = 0;
        for (String name : OrmWorkload.ranked(PgbenchShape.of(1)).stream().map(OrmWorkload::name).toList()) {
            long n = 0;
            for (JsonNode q : report.get("requests")) {
                if (q.get("name").asText().equals(name)) {
                    n = q.get("count").asLong();
                }
            }
            counts.put(name, n);
            total += n;
        }
        assertThat(total).as("requests of the mix").isGreaterThan(500);
        assertThat(counts.values().stream().filter(n -> n > 0).count()).as("kinds of request seen").isGreaterThanOrEqualTo(20);
        // Zipf: rank 1 is a quarter of the mix (1 / H(27) = 0.257), far more than the last ranks
        assertThat(counts.get("account by id") / (double) total).isBetween(0.20, 0.32);
        assertThat(counts.get("account by id")).isGreaterThan(5 * counts.get("accounts any of array"));
        // the writes were real: every committed deposit and transfer left one history row (emptied before the run)
        long writes = request(report, "deposit").get("count").asLong() + request(report, "transfer").get("count").asLong();
        assertThat(writes).isPositive();
        assertThat(request(report, "deposit: update account").get("count").asLong())
                .isEqualTo(request(report, "deposit").get("count").asLong());
        try (Connection c = TestPostgres.get().connect(TestPostgres.SCRAM); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM loadtest_history")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(writes);
        }
    }

    @Test
    void everyRequestOfTheMixAnswersRightWithUnnamedStatementsOnly() throws Exception {
        assertThat(preparedStatementsAfterEveryRequest(BuiltInScenario.byId("orm").setUp(
                new SimulationContext(Map.of())).driver())).as("named statements on the server").isZero();
        // the same requests with pgjdbc naming statements from their first execution do leave some: the count can fail
        assertThat(preparedStatementsAfterEveryRequest(BuiltInScenario.byId("orm").setUp(
                new SimulationContext(Map.of("prepare-threshold", "1"))).driver())).isPositive();
    }

    /**
     * Runs each of the 27 requests 6 times on one connection made with {@code driver}'s properties (pgjdbc names a
     * statement after prepareThreshold executions), every result checked; then counts the connection's named
     * statements on the server.
     */
    private static long preparedStatementsAfterEveryRequest(Driver driver) throws Exception {
        Target target = Target.parse(Fixture.upstream(), null, null);
        Properties props = target.connectionProperties(((Driver.Jdbc) driver).properties());
        try (Connection c = DriverManager.getConnection(target.jdbcUrl(), props)) {
            PgbenchSchema.ensure(1).run(c);
            Session session = new Session(0, "orm");
            for (Step step : OrmWorkload.ranked(PgbenchShape.of(1))) {
                for (int i = 0; i < 6; i++) {
                    if (step instanceof Step.Transaction t) {
                        c.setAutoCommit(false);
                        for (Step inner : t.steps()) {
                            run(inner, c, session);
                        }
                        c.commit();
                        c.setAutoCommit(true);
                    } else {
                        run(step, c, session);
                    }
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_prepared_statements")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void run(Step step, Connection c, Session session) throws Exception {
        switch (step) {
            case Step.Exec e -> e.action().run(c, session);
            case Step.Act a -> a.action().accept(session);
            default -> throw new AssertionError("not a step of the orm mix: " + step);
        }
    }

    @Test
    void aWrongExpectationIsAnError() throws Exception {
        Path out = Fixture.outDir("orm-wrong-expectation");
        Fixture.Cli r = cli("run", "--url", Fixture.upstream(), "--simulation", WrongShapeOrm.class.getName(),
                "--duration", "2s", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertOnlyTellerCountsFailed(report, "wrong result: expected 11 rows, got 10");
    }

    @Test
    void aMissingRowIsAnError() throws Exception {
        try (Connection c = TestPostgres.get().connect(TestPostgres.SCRAM)) {
            PgbenchSchema.ensure(1).run(c);
            try (Statement st = c.createStatement()) {
                assertThat(st.executeUpdate("DELETE FROM loadtest_tellers WHERE tid = 4")).isEqualTo(1);
            }
            try {
                Path out = Fixture.outDir("orm-missing-row");
                Fixture.Cli r = cli("run", "--url", Fixture.upstream(), "--scenario", "orm", "-Dskew=0", "--users", "2",
                        "--duration", "2s", "--quiet", "--out", out.toString());
                assertThat(r.status()).as(r.err()).isZero();
                JsonNode report = json(out.resolve("report.json"));
                assertOnlyTellerCountsFailed(report, "wrong result: expected 10 rows, got 9");
                assertThat(request(report, "teller by id").get("errors").asLong()).as("teller 4 looked up")
                        .isLessThan(request(report, "teller by id").get("count").asLong());
            } finally {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO loadtest_tellers (tid, bid, tbalance) VALUES (4, 1, 0)");
                }
            }
        }
    }

    /**
     * Every request counting a branch's tellers failed, each time; the two that list them with {@code message}. Requests
     * that touch no teller did not fail; those that look one up by number fail when they draw the teller concerned.
     */
    private static void assertOnlyTellerCountsFailed(JsonNode report, String message) {
        long listing = 0;
        for (JsonNode q : report.get("requests")) {
            String name = q.get("name").asText();
            if (TELLER_COUNTING.contains(name)) {
                assertThat(q.get("count").asLong()).as(name).isPositive();
                assertThat(q.get("errors").asLong()).as(name).isEqualTo(q.get("count").asLong());
                if (!name.equals("tellers per branch")) {
                    listing += q.get("errors").asLong();
                }
            } else if (!TELLER_BY_NUMBER.contains(name)) {
                assertThat(q.get("errors").asLong()).as(name).isZero();
            }
        }
        assertThat(listing).isPositive();
        JsonNode error = null;
        for (JsonNode e : report.get("errors")) {
            if (e.get("message").asText().equals(message)) {
                error = e;
            }
        }
        assertThat(error).as("an error \"" + message + "\" in " + report.get("errors")).isNotNull();
        assertThat(error.get("count").asLong()).isEqualTo(listing);
        assertThat(error.get("requests").toString()).contains("tellers of branch", "account, branch and tellers");
    }
}
