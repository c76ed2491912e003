package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.ShutdownTest.assertEndedByAdministrator;
import static dev.pgmux.proxy.features.ShutdownTest.awaitEndedByAdministrator;
import static dev.pgmux.proxy.features.ShutdownTest.backends;
import static dev.pgmux.proxy.features.ShutdownTest.closeAll;
import static dev.pgmux.proxy.features.ShutdownTest.drop;
import static dev.pgmux.proxy.features.ShutdownTest.insert;
import static dev.pgmux.proxy.features.ShutdownTest.rows;
import static dev.pgmux.proxy.features.ShutdownTest.table;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.PgmuxProcess;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * SIGTERM and SIGINT to a pgmux process of its own (a test may not signal its own JVM): SIGTERM drains (the
 * transactions in flight commit, idle clients get FATAL 57P01, /ready turns 503 at once) and the process exits
 * 0 within limits.shutdown_timeout; SIGINT during a drain ends it at once, the open transaction rolls back.
 */
@Timeout(180)
class ShutdownSignalTest {
    private static final TestRole ROLE = TestPostgres.PLAIN;
    private static final Duration START = Duration.ofSeconds(60);
    private static final int BUSY = 10;
    private static final int IDLE = 10;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Port.class)
    void sigtermLetsTransactionsCommitEndsIdleClientsAndExitsZero(Port port) throws Exception {
        String table = table(port);
        Duration timeout = Duration.ofSeconds(20);
        List<Connection> busy = new ArrayList<>();
        List<Connection> idle = new ArrayList<>();
        try (PgmuxProcess pgmux = PgmuxProcess.start("pgmux", config(BUSY + IDLE + 2, timeout), dir.resolve("pgmux.yaml"))
                .awaitListening(START)) {
            for (int i = 0; i < BUSY; i++) {
                Connection c = pgmux.connect(port, ROLE, new Properties());
                busy.add(c);
                c.setAutoCommit(false);
                insert(c, table, i, 1);
            }
            for (int i = 0; i < IDLE; i++) {
                Connection c = pgmux.connect(port, ROLE, new Properties());
                idle.add(c);
                assertThat(text(c, "SELECT 'ready'")).isEqualTo("ready");
            }

            long started = System.nanoTime();
            pgmux.terminate();
            Wait.until("/ready answers 503", () -> get(pgmux.adminPort(), "/ready") == 503, pgmux::output);
            assertThat(get(pgmux.adminPort(), "/metrics")).as("the admin port during the drain").isEqualTo(200);
            for (Connection c : idle) {
                awaitEndedByAdministrator(c); // the signal takes a moment to arrive
            }
            assertThat(pgmux.isAlive()).as("pgmux waits for the transactions in flight").isTrue();
            for (int i = 0; i < BUSY; i++) {
                Connection c = busy.get(i);
                insert(c, table, i, 2);
                c.commit();
                assertEndedByAdministrator(c);
            }

            assertThat(pgmux.awaitExit(timeout)).as("exit status after SIGTERM:\n%s", pgmux.output()).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("from SIGTERM to exit").isLessThan(timeout);
            assertThat(rows(table)).as("rows of the transactions in flight at SIGTERM").isEqualTo(2 * BUSY);
            Wait.until("every server connection gone from Postgres", () -> backends(ROLE) == 0);
            assertThat(pgmux.output()).contains("shutting down (wait for clients", "pgmux stopped")
                    .doesNotContain("LEAK:");
        } finally {
            closeAll(busy);
            closeAll(idle);
            drop(table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void sigintDuringADrainEndsItAtOnce(Port port) throws Exception {
        String table = table(port);
        Duration timeout = Duration.ofSeconds(60);
        try (PgmuxProcess pgmux = PgmuxProcess.start("pgmux", config(5, timeout), dir.resolve("pgmux.yaml"))
                .awaitListening(START);
             Connection open = pgmux.connect(port, ROLE, new Properties());
             Connection idle = pgmux.connect(port, ROLE, new Properties())) {
            open.setAutoCommit(false);
            insert(open, table, 1, 1);
            assertThat(text(idle, "SELECT 'ready'")).isEqualTo("ready");

            pgmux.terminate();
            awaitEndedByAdministrator(idle);
            assertThat(pgmux.isAlive()).as("the drain waits for the open transaction").isTrue();

            long interrupted = System.nanoTime();
            pgmux.interrupt();
            assertThat(pgmux.awaitExit(Duration.ofSeconds(20))).as("exit status after SIGINT:\n%s", pgmux.output()).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - interrupted)).as("from SIGINT to exit")
                    .isLessThan(Duration.ofSeconds(15));
            assertEndedByAdministrator(open);
            assertThat(rows(table)).as("rows of the transaction SIGINT cut short").isZero();
            assertThat(pgmux.output()).contains("asked to stop at once").doesNotContain("LEAK:");
        } finally {
            drop(table);
        }
    }

    private static PgmuxConfig config(int poolSize, Duration shutdownTimeout) {
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(poolSize));
        return base.withListen(base.listen().withTransport(PgmuxHarness.testTransport()))
                .withLimits(base.limits().withShutdownTimeout(shutdownTimeout));
    }

    /** The status of an HTTP GET on the admin port. */
    static int get(int adminPort, String path) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(Duration.ofSeconds(5)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
