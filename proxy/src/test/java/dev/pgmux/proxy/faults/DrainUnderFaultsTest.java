package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A drain that meets a fault: Postgres dies while the drain waits for transactions in flight, or a client
 * vanishes mid-transaction while it waits. On either port every client hears within a bound and the drain
 * ends long before its timeout; nothing waits for a transaction that can no longer end.
 */
@Timeout(120)
class DrainUnderFaultsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Far below the shutdown timeout: a drain that waited for it would show. */
    private static final Duration BOUND = Duration.ofSeconds(15);
    private static final String SLEEP = "SELECT pg_sleep(60)";

    private static PgmuxHarness start() {
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(6));
        return PgmuxHarness.start(base.withLimits(base.limits().withShutdownTimeout(TIMEOUT)));
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void postgresDyingDuringADrainEndsEveryTransactionAndTheDrain(Port port) throws Exception {
        TestPostgres pg = TestPostgres.get();
        assertThat(pg.managed()).as("this test crashes and restarts the test Postgres: it must be the private cluster").isTrue();
        List<Connection> opened = new ArrayList<>();
        try (PgmuxHarness pgmux = start()) {
            List<CompletableFuture<SQLException>> inFlight = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Properties props = new Properties();
                props.setProperty("socketTimeout", "90");
                Connection c = port.connect(pgmux, ROLE, props);
                opened.add(c);
                c.setAutoCommit(false);
                inFlight.add(CompletableFuture.supplyAsync(() -> {
                    try (Statement s = c.createStatement()) {
                        s.execute(SLEEP);
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                }, runnable -> Thread.ofVirtual().start(runnable)));
            }
            Wait.until("the four transactions running upstream", () -> superuserCount(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = ? AND state = 'active'", SLEEP) == 4);
            CompletableFuture<Void> stopped = pgmux.server().stop(ShutdownMode.WAIT_FOR_CLIENTS);
            assertThat(stopped).as("the drain waits for the transactions in flight").isNotDone();
            long crashed = System.nanoTime();
            try {
                pg.crash(TestPostgres.Crash.IMMEDIATE);
                for (CompletableFuture<SQLException> transaction : inFlight) {
                    SQLException e = transaction.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                    assertThat((Object) e).as("the statement of a transaction whose server died").isNotNull();
                    assertThat(e.getSQLState()).as("%s", e).matches("08.*|57P.*");
                }
                stopped.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                assertThat(Duration.ofNanos(System.nanoTime() - crashed)).as("the drain, after the crash")
                        .isLessThan(BOUND);
            } finally {
                pg.start();
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

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientVanishingMidTransactionDuringADrainDoesNotHoldItUp(Port port) throws Exception {
        try (PgmuxHarness pgmux = start()) {
            WireClient raw = WireClient.login("vanishing", "127.0.0.1", port.of(pgmux), PgmuxHarness.tenantUser(ROLE),
                    ROLE.password(), "postgres", Duration.ofSeconds(10));
            ByteArrayOutputStream transaction = new ByteArrayOutputStream();
            transaction.writeBytes(Wire.query("BEGIN"));
            transaction.writeBytes(Wire.query(SLEEP));
            raw.send(transaction.toByteArray());
            Wait.until("its statement running upstream", () -> superuserCount(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = ? AND state = 'active'", SLEEP) == 1);
            CompletableFuture<Void> stopped = pgmux.server().stop(ShutdownMode.WAIT_FOR_CLIENTS);
            assertThat(stopped).as("the drain waits for the transaction in flight").isNotDone();
            long vanished = System.nanoTime();
            raw.closeWithoutTerminate(); // gone without a Terminate, its statement still running
            stopped.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - vanished)).as("the drain, after the client vanished")
                    .isLessThan(BOUND);
            Wait.until("its statement cancelled upstream", () -> superuserCount(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = ?", SLEEP) == 0);
        }
    }
}
