package dev.pgmux.proxy.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * {@code /metrics} on the admin port: the meters move as a client's traffic flows, on both ports, and are
 * what Prometheus reads (parsed here as it parses them); the bearer token is enforced when configured.
 */
@Timeout(60)
class MetricsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    private static String[] pool(Port port) {
        return new String[]{"tenant", PgmuxHarness.TENANT, "database", "postgres", "user", ROLE.name(),
                "mode", port.name().toLowerCase()};
    }

    private static String[] with(String[] labels, String... more) {
        String[] all = java.util.Arrays.copyOf(labels, labels.length + more.length);
        System.arraycopy(more, 0, all, labels.length, more.length);
        return all;
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void trafficMovesThePoolsMeters(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            String[] pool = pool(port);
            try (Connection c = port.connect(pgmux, ROLE); Statement s = c.createStatement()) {
                for (int i = 0; i < 10; i++) {
                    s.execute("SELECT " + i);
                }
                c.setAutoCommit(false);
                s.execute("SELECT 1");
                s.execute("SELECT repeat('x', 100000)");
                c.commit();
                c.setAutoCommit(true);
                catchThrowableOfType(SQLException.class, () -> s.execute("SELECT * FROM no_such_table"));

                Scrape during = Scrape.of(pgmux);
                assertThat(during.sum("pgmux_transaction_duration_seconds_count", pool))
                        .as("transactions: 10 single statements, one of two, one failed").isGreaterThanOrEqualTo(12);
                assertThat(during.sum("pgmux_query_duration_seconds_count", pool)).isGreaterThanOrEqualTo(13);
                assertThat(during.sum("pgmux_query_duration_seconds_sum", pool)).isPositive();
                assertThat(during.sum("pgmux_transaction_duration_seconds_bucket", with(pool, "le", "+Inf")))
                        .isEqualTo(during.sum("pgmux_transaction_duration_seconds_count", pool));
                assertThat(during.sum("pgmux_client_sent_bytes_total", pool)).as("the 100 kB row went out")
                        .isGreaterThan(100_000);
                assertThat(during.sum("pgmux_client_received_bytes_total", pool)).isGreaterThan(100);
                assertThat(during.sum("pgmux_client_errors_total", with(pool, "class", "42")))
                        .as("undefined table: class 42").isEqualTo(1);
                assertThat(during.sum("pgmux_checkout_wait_seconds_count", pool)).isGreaterThanOrEqualTo(1);
                assertThat(during.sum("pgmux_client_logins_total", "tenant", PgmuxHarness.TENANT,
                        "mode", port.name().toLowerCase(), "result", "ok")).isEqualTo(1);
                assertThat(during.sum("pgmux_pool_servers", "tenant", PgmuxHarness.TENANT, "user", ROLE.name()))
                        .as("servers of the pool, in any state").isGreaterThanOrEqualTo(1);
                assertThat(during.sum("pgmux_pool_size_limit", "tenant", PgmuxHarness.TENANT, "user", ROLE.name()))
                        .isEqualTo(5);
                // Between transactions a transaction-mode client holds no server; a session-mode one holds it.
                String expected = port == Port.SESSION ? "active" : "idle";
                Wait.until("the client counted as " + expected, () -> Scrape.of(pgmux)
                        .sum("pgmux_pool_clients", with(pool, "state", expected)) == 1);
                assertThat(Scrape.of(pgmux).sum("pgmux_client_connections", "mode", port.name().toLowerCase()))
                        .isEqualTo(1);
            }
            Wait.until("the client's connection no longer counted", () -> Scrape.of(pgmux)
                    .sum("pgmux_client_connections", "mode", port.name().toLowerCase()) == 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aFailedLoginIsCountedByReason(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            Properties wrong = new Properties();
            wrong.setProperty("user", PgmuxHarness.tenantUser(ROLE));
            wrong.setProperty("password", "not the password");
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> java.sql.DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), wrong).close());
            assertThat(e.getSQLState()).isEqualTo("28P01");
            Wait.until("the failed login counted", () -> Scrape.of(pgmux).sum("pgmux_client_logins_total",
                    "tenant", PgmuxHarness.TENANT, "mode", port.name().toLowerCase(), "result", "auth_failed") == 1);
            assertThat(Scrape.of(pgmux).sum("pgmux_client_logins_total", "result", "ok")).isZero();
        }
    }

    @Test
    void namedStatementsAreCountedOnTheTransactionPort() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            Properties eager = new Properties();
            eager.setProperty("prepareThreshold", "1");
            for (int client = 0; client < 2; client++) {
                try (Connection c = Port.TRANSACTION.connect(pgmux, ROLE, eager);
                     PreparedStatement p = c.prepareStatement("SELECT ?::int + 1")) {
                    for (int i = 0; i < 3; i++) {
                        p.setInt(1, i);
                        try (ResultSet r = p.executeQuery()) {
                            assertThat(r.next()).isTrue();
                        }
                    }
                }
            }
            Scrape scrape = Scrape.of(pgmux);
            String[] pool = pool(Port.TRANSACTION);
            double misses = scrape.sum("pgmux_prepared_statements_total", with(pool, "event", "miss"));
            double hits = scrape.sum("pgmux_prepared_statements_total", with(pool, "event", "hit"));
            assertThat(misses).as("the first client's Parse prepared it on a server").isGreaterThanOrEqualTo(1);
            assertThat(misses + hits).as("each client's Parse, counted once").isEqualTo(2);
            assertThat(scrape.sum("pgmux_binds_total", pool)).as("a Bind per execution").isGreaterThanOrEqualTo(6);
        }
    }

    @Test
    void theProcessMetersAreServed() {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            Scrape scrape = Scrape.of(pgmux);
            assertThat(scrape.sum("jvm_memory_used_bytes", "area", "heap")).isPositive();
            assertThat(scrape.has("jvm_gc_pause_seconds_count") || scrape.has("jvm_gc_memory_allocated_bytes_total"))
                    .isTrue();
            assertThat(scrape.has("pgmux_netty_eventloop_pending_tasks")).isTrue();
            assertThat(scrape.has("pgmux_netty_direct_memory_used_bytes")).isTrue();
            assertThat(scrape.sum("process_uptime_seconds")).isPositive();
        }
    }

    /** Prometheus's own linter, from Debian's {@code prometheus} package, on a scrape taken after traffic. */
    @Test
    void promtoolFindsNothingToLint() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            for (Port port : Port.values()) {
                try (Connection c = port.connect(pgmux, ROLE); Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                    catchThrowableOfType(SQLException.class, () -> s.execute("SELECT 1/0"));
                }
            }
            String body = Scrape.of(pgmux).body();
            java.nio.file.Path dump = java.nio.file.Files.createTempFile("pgmux-metrics", ".txt");
            java.nio.file.Files.writeString(dump, body);
            Process promtool;
            try {
                promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true)
                        .redirectInput(dump.toFile()).start();
            } catch (java.io.IOException e) {
                throw new AssertionError("promtool is needed (Debian package prometheus; .ci/run installs it)", e);
            }
            String findings = new String(promtool.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(promtool.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            java.nio.file.Files.delete(dump);
            assertThat(findings).as("promtool's findings").isEmpty();
            assertThat(promtool.exitValue()).isZero();
        }
    }

    @Test
    void openMetricsWhenAskedForIt() {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            HttpResponse<String> response = Scrape.get(pgmux, null, "application/openmetrics-text; version=1.0.0");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/openmetrics-text"));
            assertThat(response.body().strip()).endsWith("# EOF");
            HttpResponse<String> plain = Scrape.get(pgmux, null, null);
            assertThat(plain.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        }
    }

    @Test
    void theTokenIsRequiredWhenConfigured() {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        config = config.withAdmin(config.admin().withMetricsToken("s3cret-token"));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            assertThat(Scrape.get(pgmux, null, null).statusCode()).isEqualTo(401);
            assertThat(Scrape.get(pgmux, "Bearer wrong", null).statusCode()).isEqualTo(401);
            assertThat(Scrape.get(pgmux, "Basic czNjcmV0LXRva2Vu", null).statusCode()).isEqualTo(401);
            HttpResponse<String> ok = Scrape.get(pgmux, "Bearer s3cret-token", null);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("pgmux_client_connections").doesNotContain("s3cret-token");
        }
    }
}
