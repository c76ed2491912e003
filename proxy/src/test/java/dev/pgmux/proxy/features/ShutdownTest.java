package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Shutdown and drain, in process (the signals, which only a process of its own can take, are in
 * {@code ShutdownSignalTest}): clients in a transaction finish it, idle ones get FATAL 57P01, logins under way
 * 57P03, /ready turns 503 at once while the admin port keeps answering; a transaction still open at
 * limits.shutdown_timeout, or at an immediate SHUTDOWN, is ended and rolls back. Every wait is bounded.
 */
@Timeout(120)
class ShutdownTest {
    private static final TestRole ROLE = TestPostgres.PLAIN;
    private static final int BUSY = 10;
    private static final int IDLE = 10;

    @ParameterizedTest
    @EnumSource(Port.class)
    void aDrainLetsTransactionsCommitAndEndsIdleClients(Port port) throws Exception {
        String table = table(port);
        Duration timeout = Duration.ofSeconds(20);
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(BUSY + IDLE + 2));
        List<Connection> busy = new ArrayList<>();
        List<Connection> idle = new ArrayList<>();
        try (PgmuxHarness pgmux = PgmuxHarness.start(base.withLimits(base.limits().withShutdownTimeout(timeout)))) {
            for (int i = 0; i < BUSY; i++) {
                Connection c = port.connect(pgmux, ROLE);
                busy.add(c);
                c.setAutoCommit(false);
                insert(c, table, i, 1); // the transaction is open: its server belongs to this client until it ends
            }
            for (int i = 0; i < IDLE; i++) {
                Connection c = port.connect(pgmux, ROLE);
                idle.add(c);
                assertThat(text(c, "SELECT 'ready'")).isEqualTo("ready");
            }
            WireClient loggingIn = WireClient.connect(port.of(pgmux)); // accepted, its startup packet not sent yet
            Wait.until("every client registered", () -> pgmux.server().runtime().clients().size() == BUSY + IDLE + 1);

            long started = System.nanoTime();
            CompletableFuture<Void> stopped = pgmux.server().stop(ShutdownMode.WAIT_FOR_CLIENTS);

            Wait.until("/ready answers 503", () -> pgmux.adminGet("/ready") == 503);
            assertThat(pgmux.adminGet("/metrics")).as("the admin port keeps answering during the drain").isEqualTo(200);
            Wait.until("the client port refuses connections", () -> refused(port.of(pgmux)));

            loggingIn.send(WireClient.Wire.startupPacket(PgmuxHarness.tenantUser(ROLE), "postgres"));
            BackendMessage refusal = loggingIn.readMessage();
            assertThat(refusal.tag()).as("answer to a login during the drain: %s", refusal).isEqualTo('E');
            assertThat(refusal.severity()).isEqualTo("FATAL");
            assertThat(refusal.sqlState()).isEqualTo("57P03");
            assertThat(refusal.message()).isEqualTo("the pooler is shutting down");
            loggingIn.close();

            for (Connection c : idle) {
                awaitEndedByAdministrator(c);
            }
            assertThat(stopped).as("pgmux waits for the transactions in flight").isNotDone();
            for (int i = 0; i < BUSY; i++) {
                Connection c = busy.get(i);
                insert(c, table, i, 2);
                c.commit();
                awaitEndedByAdministrator(c);
            }

            stopped.get(timeout.toSeconds(), TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the drain's length").isLessThan(timeout);
            assertThat(pgmux.server().runtime().clients().size()).as("clients left").isZero();
            assertThat(rows(table)).as("rows of the transactions that were in flight").isEqualTo(2 * BUSY);
            Wait.until("every server connection gone from Postgres", () -> backends(ROLE) == 0);
        } finally {
            closeAll(busy);
            closeAll(idle);
            drop(table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aTransactionStillOpenAtTheTimeoutIsEndedAndRollsBack(Port port) throws Exception {
        String table = table(port);
        Duration timeout = Duration.ofSeconds(1);
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        try (PgmuxHarness pgmux = PgmuxHarness.start(base.withLimits(base.limits().withShutdownTimeout(timeout)));
             Connection open = port.connect(pgmux, ROLE)) {
            open.setAutoCommit(false);
            insert(open, table, 1, 1);

            long started = System.nanoTime();
            CompletableFuture<Void> stopped = pgmux.server().stop(ShutdownMode.WAIT_FOR_CLIENTS);
            stopped.get(15, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the drain waited for the transaction")
                    .isGreaterThanOrEqualTo(timeout);

            assertEndedByAdministrator(open);
            assertThat(rows(table)).as("rows of the transaction cut short").isZero();
            Wait.until("its server connection gone from Postgres", () -> backends(ROLE) == 0);
        } finally {
            drop(table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anImmediateShutdownEndsEveryClientAtOnce(Port port) throws Exception {
        String table = table(port);
        try (PgmuxHarness pgmux = PgmuxHarness.start(consoleConfig());
             Connection open = port.connect(pgmux, ROLE);
             Connection idle = port.connect(pgmux, ROLE);
             Connection console = ConsoleSupport.connect(pgmux, port, ConsoleSupport.ADMIN, "simple")) {
            open.setAutoCommit(false);
            insert(open, table, 1, 1);
            assertThat(text(idle, "SELECT 'ready'")).isEqualTo("ready");

            long started = System.nanoTime();
            try (Statement st = console.createStatement()) {
                catchThrowableOfType(SQLException.class, () -> st.execute("SHUTDOWN")); // no answer, as PgBouncer
            }
            pgmux.server().stopped().get(15, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("an immediate shutdown waits for no one")
                    .isLessThan(Duration.ofSeconds(10));

            assertEndedByAdministrator(open);
            assertEndedByAdministrator(idle);
            assertThat(rows(table)).as("rows of the transaction cut short").isZero();
        } finally {
            drop(table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void waitForServersLetsTheTransactionsInFlightFinish(Port port) throws Exception {
        String table = table(port);
        try (PgmuxHarness pgmux = PgmuxHarness.start(consoleConfig());
             Connection open = port.connect(pgmux, ROLE);
             Connection console = ConsoleSupport.connect(pgmux, port, ConsoleSupport.ADMIN, "simple")) {
            open.setAutoCommit(false);
            insert(open, table, 1, 1);

            try (Statement st = console.createStatement()) {
                st.execute("SHUTDOWN WAIT_FOR_SERVERS");
            }
            Wait.until("/ready answers 503", () -> pgmux.adminGet("/ready") == 503);
            awaitEndedByAdministrator(console, "SHOW VERSION");
            assertThat(pgmux.server().stopped()).as("pgmux waits for the server in use").isNotDone();

            insert(open, table, 1, 2);
            open.commit();
            pgmux.server().stopped().get(15, TimeUnit.SECONDS);
            assertEndedByAdministrator(open);
            assertThat(rows(table)).as("rows of the transaction that was in flight").isEqualTo(2);
        } finally {
            drop(table);
        }
    }

    /** The default tenant (pool size 5) and the console's admin user. */
    private static PgmuxConfig consoleConfig() {
        return PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withConsole(new ConsoleConfig(List.of(ConsoleSupport.ADMIN), List.of()));
    }

    /**
     * The client is ended by the shutdown under way: its statements succeed until the shutdown reaches it (it is
     * idle), then one fails with pgmux's farewell, as a backend's terminated by an administrator.
     */
    static void awaitEndedByAdministrator(Connection c) {
        awaitEndedByAdministrator(c, "SELECT 'not yet'");
    }

    /** As {@link #awaitEndedByAdministrator(Connection)}, probing with {@code sql} (the console's SHOW VERSION). */
    static void awaitEndedByAdministrator(Connection c, String sql) {
        Wait.until("the client ended by the shutdown", () -> {
            try {
                text(c, sql);
                return false;
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo("57P01");
                assertThat(e.getMessage()).contains("terminating connection due to administrator command");
                return true;
            }
        });
    }

    /** The connection's next statement fails with pgmux's farewell, as a backend's terminated by an administrator. */
    static void assertEndedByAdministrator(Connection c) {
        SQLException e = catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 'still there?'"));
        assertThat((Object) e).as("a statement after the shutdown ended the client").isNotNull();
        assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo("57P01");
        assertThat(e.getMessage()).contains("terminating connection due to administrator command");
    }

    static String table(Port port) throws SQLException {
        String name = "shutdown_" + port.name().toLowerCase() + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + name + " (client int, step int)");
        }
        return name;
    }

    static void insert(Connection c, String table, int client, int step) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + table + " VALUES (" + client + ", " + step + ")");
        }
    }

    static long rows(String table) throws SQLException {
        try (Connection c = TestPostgres.get().connect(ROLE)) {
            return Long.parseLong(text(c, "SELECT count(*) FROM " + table));
        }
    }

    static void drop(String table) throws SQLException {
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
        }
    }

    /** Backends of {@code role} other than the asking one: pgmux's server connections, once the test's own are closed. */
    static long backends(TestRole role) throws SQLException {
        try (Connection su = TestPostgres.get().superuser()) {
            return Long.parseLong(text(su, "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role.name()
                    + "' AND pid <> pg_backend_pid()"));
        }
    }

    static void closeAll(List<Connection> connections) {
        for (Connection c : connections) {
            try {
                c.close();
            } catch (SQLException e) {
                // ended by pgmux already
            }
        }
    }

    static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
