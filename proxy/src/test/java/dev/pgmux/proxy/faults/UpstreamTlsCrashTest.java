package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.SslMode;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestPostgresTls;
import dev.pgmux.proxy.testing.Wait;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Postgres dies abruptly while pgmux relays large results to clients over a TLS upstream (verify-full), on
 * both ports: every client mid-query hears within a bound (08 or 57P), the pools forget the dead servers,
 * and once Postgres is back pgmux logs in over TLS again.
 */
class UpstreamTlsCrashTest {
    private static final int CLIENTS = 8;
    /** Far below the drivers' socket timeout: a client that is never told would show as a timeout. */
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final String LARGE_RESULT = "SELECT repeat('t', 1000) FROM generate_series(1, 20000)";

    @ParameterizedTest
    @EnumSource(TestPostgres.Crash.class)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyClientOverATlsUpstreamLearnsOfTheCrash(TestPostgres.Crash how) throws Exception {
        TestPostgresTls tls = TestPostgresTls.get();
        PgmuxConfig config = PgmuxConfig.ephemeral(tls.tenant("localhost", tls.trusting(SslMode.VERIFY_FULL))
                .withPoolSize(CLIENTS).withConnectTimeout(Duration.ofSeconds(4)));
        config = config.withListen(config.listen().withTransport(PgmuxHarness.testTransport()));
        List<Connection> opened = new ArrayList<>();
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            AtomicInteger results = new AtomicInteger();
            List<CompletableFuture<SQLException>> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Port port = i % 2 == 0 ? Port.SESSION : Port.TRANSACTION;
                Properties props = new Properties();
                props.setProperty("socketTimeout", "60");
                Connection c = port.connect(pgmux, TestPostgres.SCRAM, props);
                opened.add(c);
                clients.add(CompletableFuture.supplyAsync(() -> readUntilFailure(c, results),
                        runnable -> Thread.ofVirtual().start(runnable)));
            }
            // Only the setting-up: 2 x CLIENTS results of 20 MB through TLS, slow on a busy 2-CPU machine.
            Wait.until("every client has read a whole large result over TLS", Duration.ofSeconds(40),
                    () -> results.get() >= 2 * CLIENTS);

            try {
                tls.postgres().crash(how);
                long crashed = System.nanoTime();
                for (CompletableFuture<SQLException> client : clients) {
                    SQLException e;
                    try {
                        e = client.get(Math.max(1, BOUND.toNanos() - (System.nanoTime() - crashed)), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException t) {
                        throw new AssertionError("a client mid-result heard nothing within " + BOUND + " of the crash; "
                                + "pools: " + pgmux.describePools());
                    }
                    assertThat(e.getSQLState()).as("SQLSTATE of %s", e)
                            .satisfiesAnyOf(s -> assertThat(s).startsWith("08"), s -> assertThat(s).startsWith("57P"));
                }
                Wait.until("the pool forgets every dead server", BOUND, pgmux::allServersGone, pgmux::describePools);
            } finally {
                tls.postgres().start();
            }
            for (Port port : Port.values()) {
                try (Connection again = port.connect(pgmux, TestPostgres.SCRAM)) {
                    assertThat(text(again, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                            .as("a new server after the restart, over TLS").isEqualTo("true");
                }
            }
        } finally {
            for (Connection c : opened) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken by the crash
                }
            }
        }
    }

    /** Reads large results until the first failure, which it returns; counts the whole results read. */
    private static SQLException readUntilFailure(Connection c, AtomicInteger results) {
        try (Statement st = c.createStatement()) {
            for (;;) {
                try (ResultSet rs = st.executeQuery(LARGE_RESULT)) {
                    while (rs.next()) {
                        // read it all, as a client streaming a large result does
                    }
                }
                results.incrementAndGet();
            }
        } catch (SQLException e) {
            return e;
        }
    }

}
