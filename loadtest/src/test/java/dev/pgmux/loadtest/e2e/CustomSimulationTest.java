package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static dev.pgmux.loadtest.e2e.Fixture.cli;
import static dev.pgmux.loadtest.e2e.Fixture.json;
import static dev.pgmux.loadtest.e2e.Fixture.request;
import static org.assertj.core.api.Assertions.assertThat;

/** Simulations of one's own, by class name and as a .java file compiled on the fly, against the real Postgres. */
class CustomSimulationTest {

    @Test
    void aSimulationClassRunsWithExactRequestCountsAndErrorsBySqlState() throws Exception {
        Path out = Fixture.outDir("shop");
        Fixture.Cli r = cli("run", "--url", Fixture.upstream(), "--simulation", ShopSimulation.class.getName(),
                "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.get("simulation").asText()).isEqualTo("ShopSimulation");
        assertThat(report.get("populations")).hasSize(2);
        // 8 shoppers (4 at once, 4 ramped), each: 3 inserts, a count, a check, a checkout, a broken query
        assertThat(request(report, "add item").get("count").asLong()).isEqualTo(24);
        assertThat(request(report, "count items").get("count").asLong()).isEqualTo(8);
        assertThat(request(report, "check count").get("errors").asLong()).isZero();
        assertThat(request(report, "checkout").get("count").asLong()).isEqualTo(8);
        assertThat(request(report, "checkout").get("kind").asText()).isEqualTo("transaction");
        assertThat(request(report, "broken").get("errors").asLong()).isEqualTo(8);
        assertThat(request(report, "browse").get("count").asLong()).isPositive();
        JsonNode error = report.get("errors").get(0);
        assertThat(error.get("sqlState").asText()).isEqualTo("42P01");
        assertThat(error.get("message").asText()).isEqualTo("relation \"lt_no_such_table\" does not exist");
        assertThat(error.get("count").asLong()).isEqualTo(8);
        assertThat(report.get("passed").asBoolean()).isTrue();
        try (Connection c = TestPostgres.get().connect(TestPostgres.SCRAM); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE sku <> 'order'), count(*) FILTER (WHERE sku = 'order') FROM lt_items")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(24);
            assertThat(rs.getLong(2)).isEqualTo(8); // each checkout committed
        }
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains("42P01", "relation &quot;lt_no_such_table&quot; does not exist");
    }

    @Test
    void aJavaSourceFileIsCompiledAndRunWithItsParameters() throws Exception {
        Path out = Fixture.outDir("hello");
        Path source = out.resolve("src").resolve("Hello.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, """
                package demo;

                import dev.pgmux.loadtest.dsl.*;
                import static dev.pgmux.loadtest.dsl.Dsl.*;

                public class Hello implements Simulation {
                    @Override
                    public SimulationSetup define(SimulationContext ctx) {
                        return setUp(scenario("hello").connect().query("hello", "SELECT 'hello'").disconnect()
                                .injectOpen(atOnceUsers(ctx.intParam("n", 1))))
                                .assertions(global().failedRequests().percent().lt(1));
                    }
                }
                """);
        Fixture.Cli r = cli("run", "--url", Fixture.upstream(), "--simulation", source.toString(), "-Dn=5", "--quiet",
                "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode report = json(out.resolve("report.json"));
        assertThat(report.get("simulation").asText()).isEqualTo("Hello");
        assertThat(request(report, "hello").get("count").asLong()).isEqualTo(5);
        assertThat(report.at("/configuration/--n").asText()).isEqualTo("5");

        Files.writeString(source, "package demo; public class Hello { int x = ; }");
        Fixture.Cli broken = cli("run", "--url", Fixture.upstream(), "--simulation", source.toString(), "--out", out.toString());
        assertThat(broken.status()).isEqualTo(2);
        assertThat(broken.err()).contains("cannot compile", "Hello.java:1");
    }
}
