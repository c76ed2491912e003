package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.cancelSecret;
import static dev.pgmux.proxy.testing.Pgjdbc.running;
import static dev.pgmux.proxy.testing.Pgjdbc.sendCancel;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Cancel requests on both ports: they stop the statement of the client whose key they carry, wherever it
 * runs (a lone statement, inside a transaction, COPY), and nothing else; a client that vanishes mid-statement
 * has its statement cancelled upstream.
 */
@Timeout(120)
class CancelTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(tenant -> tenant.withPoolSize(3));

    private ExecutorService threads;

    @BeforeEach
    void startThreads() {
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).as("query threads finished").isTrue();
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void statementCancelStopsTheRunningStatement(Port port) throws Exception {
        String sql = "SELECT pg_sleep(30) /* statement cancel on " + port + " */";
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            Future<?> query = submit(() -> st.executeQuery(sql).close());
            Wait.until("the statement running upstream", () -> running(sql) == 1);
            st.cancel();
            assertCancelled(query);
            assertThat(text(c, "SELECT 41 + 1")).as("the connection after a cancel").isEqualTo("42");
        }
        Wait.until("the cancelled statement gone upstream", () -> running(sql) == 0);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void queryTimeoutCancels(Port port) throws Exception {
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeQuery("SELECT pg_sleep(30)"));
            assertThat((Object) e).as("the statement ran past its timeout").isNotNull();
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(Duration.ofNanos(System.nanoTime() - start).toMillis()).as("ms to cancel").isLessThan(15_000);
            st.setQueryTimeout(0);
            assertThat(text(c, "SELECT 'usable'")).isEqualTo("usable");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void cancelInsideATransactionAbortsItAsOnADirectConnection(Port port) throws Exception {
        String sql = "SELECT pg_sleep(30) /* transaction cancel on " + port + " */";
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            assertThat(text(c, "SELECT 1")).isEqualTo("1");
            Future<?> query = submit(() -> st.executeQuery(sql).close());
            Wait.until("the statement running upstream", () -> running(sql) == 1);
            st.cancel();
            assertCancelled(query);
            SQLException aborted = catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 2"));
            assertThat(aborted.getSQLState()).as("the transaction is aborted").isEqualTo("25P02");
            c.rollback();
            assertThat(text(c, "SELECT 3")).isEqualTo("3");
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void cancelStopsACopy(Port port) throws Exception {
        String sql = "COPY (SELECT pg_sleep(30) /* copy cancel on " + port + " */) TO STDOUT";
        try (Connection c = port.connect(pgmux.get(), ROLE)) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            Future<?> query = submit(() -> copy.copyOut(sql, OutputStream.nullOutputStream()));
            Wait.until("the COPY running upstream", () -> running(sql) == 1);
            c.unwrap(PGConnection.class).cancelQuery();
            assertCancelled(query);
            assertThat(text(c, "SELECT 'after copy'")).isEqualTo("after copy");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void onlyTheExactKeyCancels(Port port) throws Exception {
        String shortSql = "SELECT pg_sleep(2) /* wrong key on " + port + " */";
        String longSql = "SELECT pg_sleep(30) /* right key on " + port + " */";
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            int pid = c.unwrap(PGConnection.class).getBackendPID();
            int secret = cancelSecret(c);
            Future<?> query = submit(() -> st.executeQuery(shortSql).close());
            Wait.until("the statement running upstream", () -> running(shortSql) == 1);
            sendCancel(port.of(pgmux.get()), pid, ~secret);
            sendCancel(port.of(pgmux.get()), pid + 1, secret);
            query.get(20, TimeUnit.SECONDS); // completes normally

            Future<?> longQuery = submit(() -> st.executeQuery(longSql).close());
            Wait.until("the statement running upstream", () -> running(longSql) == 1);
            sendCancel(port.of(pgmux.get()), pid, secret);
            assertCancelled(longQuery);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void cancellingOneClientNeverTouchesAnother(Port port) throws Exception {
        String longSql = "SELECT pg_sleep(30) /* cancelled one on " + port + " */";
        String shortSql = "SELECT pg_sleep(2) /* other one on " + port + " */";
        try (Connection a = port.connect(pgmux.get(), ROLE); Statement stA = a.createStatement();
             Connection b = port.connect(pgmux.get(), ROLE); Statement stB = b.createStatement()) {
            Future<?> queryA = submit(() -> stA.executeQuery(longSql).close());
            Future<?> queryB = submit(() -> stB.executeQuery(shortSql).close());
            Wait.until("both statements running upstream", () -> running(longSql) == 1 && running(shortSql) == 1);
            stA.cancel();
            assertCancelled(queryA);
            queryB.get(20, TimeUnit.SECONDS); // completes normally
        }
    }

    /**
     * A key cancels only what its own client runs: once that client's server has gone back to the pool
     * (between transactions, or when the client left), the next user of that server is safe from it.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aKeyNeverReachesTheNextUserOfItsServer(Port port) throws Exception {
        try (PgmuxHarness single = PgmuxHarness.start(tenant -> tenant.withPoolSize(1))) {
            String sql = "SELECT pg_sleep(2) /* next user on " + port + " */";
            Connection first = port.connect(single, ROLE);
            int pid = first.unwrap(PGConnection.class).getBackendPID();
            int secret = cancelSecret(first);
            assertThat(text(first, "SELECT 1")).isEqualTo("1");
            if (port == Port.SESSION) {
                first.close(); // in session mode the server is the client's until it leaves
            }
            single.awaitQuiet(ROLE);
            try (Connection next = port.connect(single, ROLE); Statement st = next.createStatement()) {
                Future<?> query = submit(() -> st.executeQuery(sql).close());
                Wait.until("the next user's statement running upstream", () -> running(sql) == 1);
                sendCancel(port.of(single), pid, secret);
                query.get(20, TimeUnit.SECONDS); // completes normally
            } finally {
                first.close();
            }
        }
    }

    /** A client that dies mid-statement has it cancelled at once: the locks it held are free for others. */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientThatVanishesMidStatementHasItCancelled(Port port) throws Exception {
        String table = "vanish_lock_" + port.name().toLowerCase();
        String sql = "SELECT pg_sleep(60) /* vanishing client on " + port + " */";
        try (Connection setup = port.connect(pgmux.get(), ROLE); Statement st = setup.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + table + " (id int)");
        }
        Connection doomed = port.connect(pgmux.get(), ROLE);
        doomed.setAutoCommit(false);
        try (Statement st = doomed.createStatement()) {
            st.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
        }
        Future<?> query = submit(() -> doomed.createStatement().executeQuery(sql).close());
        Wait.until("the statement running upstream", () -> running(sql) == 1);
        Pgjdbc.kill(doomed);
        assertThat(catchThrowableOfType(ExecutionException.class, () -> query.get(20, TimeUnit.SECONDS)))
                .as("the killed client's statement failed on its side").isNotNull();

        long start = System.nanoTime();
        try (Connection other = port.connect(pgmux.get(), ROLE); Statement st = other.createStatement()) {
            other.setAutoCommit(false);
            st.execute("SET LOCAL lock_timeout = '20s'");
            st.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
            other.rollback();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start).toMillis()).as("ms to get the vanished client's lock")
                .isLessThan(10_000);
        Wait.until("the vanished client's statement gone upstream", () -> running(sql) == 0);
        pgmux.get().awaitQuiet(ROLE);
    }

    /** In session mode the pid a client is given is its server's, so pg_backend_pid() and NOTIFY agree with it. */
    @Test
    void sessionClientsSeeTheirServersProcessId() throws Exception {
        try (Connection c = Port.SESSION.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            PGConnection pg = c.unwrap(PGConnection.class);
            assertThat(pg.getBackendPID()).isEqualTo(Integer.parseInt(text(c, "SELECT pg_backend_pid()")));
            st.execute("LISTEN pid_check");
            st.execute("NOTIFY pid_check, 'mine'");
            PGNotification[] notifications = pg.getNotifications(10_000);
            assertThat(notifications).hasSize(1);
            assertThat(notifications[0].getPID()).as("a notification of its own").isEqualTo(pg.getBackendPID());
            int pid = pg.getBackendPID();
            Future<?> query = submit(() -> st.executeQuery("SELECT pg_sleep(30)").close());
            Wait.until("the statement running upstream", () -> running("SELECT pg_sleep(30)") >= 1);
            sendCancel(Port.SESSION.of(pgmux.get()), pid, cancelSecret(c));
            assertCancelled(query);
        }
    }

    /** Work for another thread, which may throw. */
    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private Future<?> submit(Work work) {
        return threads.submit((Callable<Void>) () -> {
            work.run();
            return null;
        });
    }

    /** The statement fails soon with query_canceled. */
    private static void assertCancelled(Future<?> query) {
        ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> query.get(15, TimeUnit.SECONDS));
        assertThat((Object) e).as("the statement failed instead of completing").isNotNull();
        assertThat(e.getCause()).isInstanceOf(SQLException.class);
        assertThat(((SQLException) e.getCause()).getSQLState()).as("SQLSTATE of %s", e.getCause()).isEqualTo("57014");
    }
}
