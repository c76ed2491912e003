package dev.pgmux.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Money moves between accounts in transactions through both ports while Postgres is stopped in immediate mode:
 * every client hears of it within a bound, and once Postgres is back the total is what it was (no transfer
 * half done, none done twice) and pgmux serves transfers again.
 */
class TransfersSurviveACrashTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final int ACCOUNTS = 10;
    private static final int TOTAL = ACCOUNTS * 100;
    private static final int CLIENTS_PER_PORT = 4;
    private static final Duration BOUND = Duration.ofSeconds(10);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theTotalHoldsAndEveryClientHearsOfTheCrash() throws Exception {
        TestPostgres pg = TestPostgres.get();
        assertThat(pg.managed()).as("this test crashes and restarts the test Postgres: it must be the private cluster").isTrue();
        try (Connection su = pg.superuser(); Statement st = su.createStatement()) {
            st.execute("DROP TABLE IF EXISTS crash_accounts");
            st.execute("CREATE TABLE crash_accounts (id int PRIMARY KEY, balance int NOT NULL)");
            st.execute("INSERT INTO crash_accounts SELECT i, 100 FROM generate_series(1, " + ACCOUNTS + ") i");
            st.execute("GRANT ALL ON crash_accounts TO " + ROLE.name());
        }
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2 * CLIENTS_PER_PORT))) {
            AtomicBoolean crashed = new AtomicBoolean();
            AtomicLong committed = new AtomicLong();
            List<CompletableFuture<SQLException>> clients = new ArrayList<>();
            for (Port port : Port.values()) {
                for (int i = 0; i < CLIENTS_PER_PORT; i++) {
                    Connection c = connect(pgmux, port);
                    clients.add(CompletableFuture.supplyAsync(() -> transferUntilFailure(c, committed, crashed),
                            runnable -> Thread.ofVirtual().start(runnable)));
                }
            }
            Wait.until("transfers committed under load", () -> committed.get() >= 100);
            try {
                crashed.set(true);
                pg.crash(TestPostgres.Crash.IMMEDIATE);
                long start = System.nanoTime();
                for (CompletableFuture<SQLException> client : clients) {
                    long left = Math.max(1, BOUND.toNanos() - (System.nanoTime() - start));
                    SQLException e = client.get(left, TimeUnit.NANOSECONDS);
                    assertThat(e.getSQLState()).as("what a client mid-transfer heard: %s", e).matches("08.*|57P.*");
                }
            } finally {
                pg.start();
            }
            assertThat(total()).as("the total after the crash").isEqualTo(TOTAL);
            // pgmux serves again, on both ports, with new servers.
            for (Port port : Port.values()) {
                try (Connection c = connect(pgmux, port)) {
                    AtomicLong after = new AtomicLong();
                    for (int i = 0; i < 5; i++) {
                        transfer(c, after);
                    }
                    assertThat(after.get()).isEqualTo(5);
                }
            }
            assertThat(total()).isEqualTo(TOTAL);
        }
    }

    private static Connection connect(PgmuxHarness pgmux, Port port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", "60"); // far above the bound: a client never told would show as a timeout
        Connection c = port.connect(pgmux, ROLE, props);
        c.setAutoCommit(false);
        return c;
    }

    /** Moves money until the first failure, which it returns; only a crash may cause one. */
    private static SQLException transferUntilFailure(Connection c, AtomicLong committed, AtomicBoolean crashed) {
        try (c) {
            for (;;) {
                transfer(c, committed);
            }
        } catch (SQLException e) {
            if (!crashed.get()) {
                throw new AssertionError("a transfer failed before the crash", e);
            }
            return e;
        }
    }

    /** One transfer: two updates in one transaction, rows in id order so that concurrent transfers cannot deadlock. */
    private static void transfer(Connection c, AtomicLong committed) throws SQLException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int from = random.nextInt(1, ACCOUNTS + 1);
        int to = from % ACCOUNTS + 1 + random.nextInt(ACCOUNTS - 1);
        to = (to - 1) % ACCOUNTS + 1;
        int amount = random.nextInt(1, 10);
        try (PreparedStatement ps = c.prepareStatement("UPDATE crash_accounts SET balance = balance + ? WHERE id = ?")) {
            for (int id : new int[] {Math.min(from, to), Math.max(from, to)}) {
                ps.setInt(1, id == from ? -amount : amount);
                ps.setInt(2, id);
                ps.executeUpdate();
            }
        }
        c.commit();
        committed.incrementAndGet();
    }

    private static long total() throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement();
             ResultSet rs = st.executeQuery("SELECT sum(balance) FROM crash_accounts")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
