package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.net.Transport;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Postgres dies abruptly (immediate shutdown, or its postmaster killed) while clients are mid-query, some of
 * them slow readers whose servers pgmux has stopped reading from: every client gets an error or a close within
 * a bound, on either port, and the pool forgets the dead servers at once.
 */
class PostgresCrashTest {
    private static final int DRIVER_CLIENTS = 12;
    private static final int SLOW_CLIENTS = 4;
    /** Far below the drivers' socket timeout: a client that is never told would show as a timeout. */
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final String LARGE_RESULT = "SELECT repeat('z', 1000) FROM generate_series(1, 1000000)";

    /** Fresh for each crash: the pools start with no server of an earlier Postgres. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(
            t -> t.withPoolSize(DRIVER_CLIENTS + SLOW_CLIENTS).withCheckoutTimeout(Duration.ofSeconds(30)));

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeClients() {
        for (AutoCloseable c : opened) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already broken by the test
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestPostgres.Crash.class)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyClientLearnsOfTheCrashPromptly(TestPostgres.Crash how) throws Exception {
        TestPostgres pg = TestPostgres.get();
        assertThat(pg.managed()).as("this test crashes and restarts the test Postgres: it must be the private cluster").isTrue();

        // Slow readers: a large result with more queries pipelined behind it, and nothing read. pgmux pauses
        // reads from their servers, whose sockets fill up, and each backend dies with input of theirs unread:
        // the connection is reset with bytes still queued before the reset.
        List<WireClient> slow = new ArrayList<>();
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            int port = i % 2 == 0 ? pgmux.get().sessionPort() : pgmux.get().transactionPort();
            WireClient raw = WireClient.login("slow reader " + i, "127.0.0.1", port, PgmuxHarness.tenantUser(TestPostgres.SCRAM),
                    TestPostgres.SCRAM.password(), "postgres", Duration.ofSeconds(10));
            opened.add(raw);
            ByteArrayOutputStream pipelined = new ByteArrayOutputStream();
            pipelined.writeBytes(Wire.query(LARGE_RESULT));
            for (int q = 0; q < 100; q++) {
                pipelined.writeBytes(Wire.query("SELECT 1 -- " + "p".repeat(2000)));
            }
            raw.send(pipelined.toByteArray());
            slow.add(raw);
        }

        List<CompletableFuture<SQLException>> drivers = new ArrayList<>();
        for (int i = 0; i < DRIVER_CLIENTS; i++) {
            Properties props = new Properties();
            props.setProperty("socketTimeout", "60");
            Connection c = i % 2 == 0 ? pgmux.get().connect(TestPostgres.SCRAM, props)
                    : pgmux.get().connectTransaction(TestPostgres.SCRAM, props);
            opened.add(c);
            boolean sleeps = (i / 2) % 2 == 0;
            drivers.add(CompletableFuture.supplyAsync(() -> runUntilFailure(c, sleeps), runnable -> Thread.ofVirtual().start(runnable)));
        }
        Wait.until("the slow readers' backends block writing, the others run", BOUND, () -> superuserCount(
                "SELECT count(*) FROM pg_stat_activity WHERE query = ? AND wait_event = 'ClientWrite'", LARGE_RESULT) == SLOW_CLIENTS
                && superuserCount("SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND state = 'active'",
                TestPostgres.SCRAM.name()) >= DRIVER_CLIENTS / 2 + SLOW_CLIENTS);

        try {
            pg.crash(how);
            long crashed = System.nanoTime();

            for (CompletableFuture<SQLException> driver : drivers) {
                SQLException e;
                try {
                    e = driver.get(Math.max(1, BOUND.toNanos() - (System.nanoTime() - crashed)), TimeUnit.NANOSECONDS);
                } catch (TimeoutException t) {
                    throw new AssertionError("a client mid-query heard nothing within " + BOUND + " of the crash; pools: "
                            + pgmux.get().describePools());
                }
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e)
                        .satisfiesAnyOf(s -> assertThat(s).startsWith("08"), s -> assertThat(s).startsWith("57P"));
            }
            AssertionError stillCounted = null;
            if (pgmux.get().server().transport() != Transport.NIO) {
                // NIO cannot learn of a close without reading, and these servers are paused: there it takes the
                // slow readers' reads below.
                try {
                    Wait.until("the pool forgets every dead server while the slow readers still read nothing", BOUND,
                            pgmux.get()::allServersGone, pgmux.get()::describePools);
                } catch (AssertionError e) {
                    stillCounted = e; // what the slow readers get tells more: report that first
                }
            }

            List<CompletableFuture<String>> reads = slow.stream()
                    .map(raw -> CompletableFuture.supplyAsync(() -> readToTheEnd(raw), runnable -> Thread.ofVirtual().start(runnable)))
                    .toList();
            for (CompletableFuture<String> read : reads) {
                assertThat(read.join()).as("what a slow reader got once it read again")
                        .matches("error (08|57P).*|closed.*");
            }
            if (stillCounted != null) {
                throw stillCounted;
            }
            Wait.until("the pool forgets every dead server", BOUND, pgmux.get()::allServersGone, pgmux.get()::describePools);
        } finally {
            pg.start();
        }
    }

    /** Runs a sleep or large reads until the first failure, which it returns. */
    private static SQLException runUntilFailure(Connection c, boolean sleeps) {
        try (Statement st = c.createStatement()) {
            for (;;) {
                try (ResultSet rs = st.executeQuery(sleeps ? "SELECT pg_sleep(60)" : "SELECT repeat('y', 1000) FROM generate_series(1, 20000)")) {
                    while (rs.next()) {
                        // read it all, as a client streaming a large result does
                    }
                }
            }
        } catch (SQLException e) {
            return e;
        }
    }

    /** Reads until an ErrorResponse or the end of the connection, or for at most the bound; says which. */
    private static String readToTheEnd(WireClient raw) {
        try {
            raw.socket().setSoTimeout((int) BOUND.toMillis());
            for (;;) {
                BackendMessage m = raw.readMessage();
                if (m.tag() == 'E') {
                    return "error " + m.sqlState() + " " + m.message();
                }
            }
        } catch (SocketTimeoutException e) {
            return "nothing for " + BOUND;
        } catch (IOException e) {
            return "closed: " + e.getMessage();
        }
    }

}
