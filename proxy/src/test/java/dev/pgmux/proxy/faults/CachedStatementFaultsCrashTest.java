package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.BOUND;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.TEXTS;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.admin;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.check;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.checkAll;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.connect;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.connectionLost;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.createTable;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.statementEvents;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.textAt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UnnamedStatementPlans;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Postgres dies abruptly while pgjdbc clients ({@code prepareThreshold=0}: every statement an unnamed Parse,
 * Bind, Execute, Sync) run a few dozen texts through pgmux with {@code cache_unnamed_statements} on: every
 * client hears of it within a bound, and once Postgres is back the clients that are still connected, and new
 * ones, get every result right. The new servers hold none of the shared statements the old ones did: pgmux
 * must prepare them again rather than name statements that do not exist. Crashes and restarts the shared test
 * Postgres, as {@link PostgresCrashTest} does.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CachedStatementFaultsCrashTest {
    private static final String TABLE = "cached_faults_crash_kv";
    private static final int CLIENTS = 6;
    /** On the transaction port the clients share fewer servers, so each server serves several of them. */
    private static final int SHARED_SERVERS = 3;
    /** Statements each client runs before the crash: every text at least once. */
    private static final int WARM_UP = 2 * TEXTS;

    @BeforeAll
    static void createKeyValues() throws SQLException {
        createTable(TABLE);
    }

    @AfterAll
    static void dropKeyValues() throws SQLException {
        admin("DROP TABLE IF EXISTS " + TABLE);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void immediateStopWithCustomPlans(Port port) throws Exception {
        crashUnderLoad(port, TestPostgres.Crash.IMMEDIATE, UnnamedStatementPlans.CUSTOM);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void postmasterKilledWithAutoPlans(Port port) throws Exception {
        crashUnderLoad(port, TestPostgres.Crash.KILL_POSTMASTER, UnnamedStatementPlans.AUTO);
    }

    private void crashUnderLoad(Port port, TestPostgres.Crash how, UnnamedStatementPlans plans) throws Exception {
        TestPostgres pg = TestPostgres.get();
        assertThat(pg.managed()).as("this test crashes and restarts the test Postgres: it must be the private cluster").isTrue();
        int poolSize = port == Port.SESSION ? CLIENTS : SHARED_SERVERS;
        List<Connection> clients = new ArrayList<>();
        try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(poolSize, plans, Duration.ofSeconds(30))) {
            List<AtomicLong> done = new ArrayList<>();
            List<CompletableFuture<SQLException>> running = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Connection c = connect(pgmux, port);
                clients.add(c);
                AtomicLong count = new AtomicLong();
                done.add(count);
                int id = i;
                running.add(CompletableFuture.supplyAsync(() -> runUntilFailure(c, id, count),
                        runnable -> Thread.ofVirtual().start(runnable)));
            }
            Wait.until("every client ran " + WARM_UP + " statements", Duration.ofSeconds(60), () -> {
                for (CompletableFuture<SQLException> client : running) {
                    if (client.isDone()) {
                        throw new AssertionError("a client stopped before the crash: " + outcome(client));
                    }
                }
                return done.stream().allMatch(n -> n.get() >= WARM_UP);
            }, () -> done.toString());
            double hitsBefore = statementEvents(pgmux, "hit");
            if (port == Port.TRANSACTION) {
                assertThat(hitsBefore).as("parses served from statements the servers held, before the crash").isPositive();
            } else {
                assertThat(hitsBefore).as("the session port never serves from shared statements").isZero();
            }

            try {
                pg.crash(how);
                long crashed = System.nanoTime();
                for (int i = 0; i < CLIENTS; i++) {
                    SQLException e;
                    try {
                        e = running.get(i).get(Math.max(1, BOUND.toNanos() - (System.nanoTime() - crashed)), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException t) {
                        throw new AssertionError("client " + i + " heard nothing within " + BOUND + " of the crash; pools: "
                                + pgmux.describePools());
                    } catch (ExecutionException failed) {
                        throw new AssertionError("client " + i + " failed otherwise than with an SQLException", failed.getCause());
                    }
                    assertThat(connectionLost(e.getSQLState())).as("client %d: SQLSTATE of %s", i, e).isTrue();
                }
                Wait.until("the pool forgets every dead server", BOUND, pgmux::allServersGone, pgmux::describePools);
            } finally {
                pg.start();
            }

            // The same clients where still connected (the transaction port keeps a client whose server died
            // between its statements), new ones elsewhere, all at once: every text, twice, every row checked.
            int kept = 0;
            for (int i = 0; i < CLIENTS; i++) {
                if (clients.get(i).isClosed()) {
                    clients.set(i, connect(pgmux, port));
                } else {
                    kept++;
                }
            }
            if (port == Port.TRANSACTION) {
                // At most one client per server was using one at the crash; the others only failed to get one.
                assertThat(kept).as("clients still connected after the crash").isGreaterThanOrEqualTo(CLIENTS - SHARED_SERVERS);
            } else {
                assertThat(kept).as("session clients still connected after their servers died").isZero();
            }
            double hitsAfterCrash = statementEvents(pgmux, "hit");
            double missesAfterCrash = statementEvents(pgmux, "miss");
            List<CompletableFuture<Void>> again = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Connection c = clients.get(i);
                int id = i;
                again.add(CompletableFuture.runAsync(() -> {
                    try {
                        checkAll(c, TABLE, 1000 * id);
                        checkAll(c, TABLE, 1000 * id + 500);
                    } catch (SQLException e) {
                        throw new AssertionError("client " + id + " after the restart: " + e.getSQLState() + " " + e.getMessage(), e);
                    }
                }, runnable -> Thread.ofVirtual().start(runnable)));
            }
            for (int i = 0; i < CLIENTS; i++) {
                try {
                    again.get(i).get(60, TimeUnit.SECONDS);
                } catch (ExecutionException failed) {
                    throw new AssertionError("client " + i + " (" + kept + " of " + CLIENTS + " kept their connection)",
                            failed.getCause());
                }
            }
            if (port == Port.TRANSACTION) {
                assertThat(statementEvents(pgmux, "miss") - missesAfterCrash)
                        .as("statements prepared on the new servers").isGreaterThanOrEqualTo(TEXTS);
                assertThat(statementEvents(pgmux, "hit") - hitsAfterCrash)
                        .as("parses served from statements the new servers hold").isPositive();
            } else {
                assertThat(statementEvents(pgmux, "hit")).as("the session port never serves from shared statements").isZero();
            }
            ServerPool.Stats stats = pgmux.stats(CachedStatementFaultsSupport.ROLE);
            assertThat(stats.open()).as("%s", stats).isBetween(1, poolSize);
        } finally {
            for (Connection c : clients) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken by the crash
                }
            }
        }
    }

    /** Runs the texts in the client's order until the first SQLException, which it returns. */
    private static SQLException runUntilFailure(Connection c, int client, AtomicLong done) {
        try {
            for (int i = 0;; i++) {
                check(c, TABLE, textAt(client, i), i * 13 + client);
                done.incrementAndGet();
            }
        } catch (SQLException e) {
            return e;
        }
    }

    private static String outcome(CompletableFuture<SQLException> client) {
        try {
            SQLException e = client.getNow(null);
            return e == null ? "still running" : e.getSQLState() + " " + e.getMessage();
        } catch (RuntimeException failed) {
            return failed.getCause() == null ? failed.toString() : failed.getCause().toString();
        }
    }

}
