package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.session.SessionSupport.await;
import static dev.pgmux.proxy.session.SessionSupport.awaitIdle;
import static dev.pgmux.proxy.session.SessionSupport.cancelSecret;
import static dev.pgmux.proxy.session.SessionSupport.running;
import static dev.pgmux.proxy.session.SessionSupport.sendCancel;
import static dev.pgmux.proxy.session.SessionSupport.serverPid;
import static dev.pgmux.proxy.session.SessionSupport.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** CancelRequests through pgmux: they stop the query of the client whose key they carry, and nothing else. */
@Timeout(60)
class SessionCancelTest {
    private static final String LONG_QUERY = "SELECT pg_sleep(30)";
    private static final String SHORT_QUERY = "SELECT pg_sleep(2)";

    private PgmuxHarness pgmux;
    private ExecutorService threads;

    @BeforeEach
    void start() {
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(20, TimeUnit.SECONDS)).as("query threads finished").isTrue();
        if (pgmux != null) {
            pgmux.close();
        }
    }

    @Test
    void statementCancelStopsTheRunningQueryAndTheSessionStaysUsable() throws Exception {
        pgmux = PgmuxHarness.start();
        try (Connection c = pgmux.connect(TestPostgres.SCRAM); Statement st = c.createStatement()) {
            int pid = serverPid(c);
            Future<Boolean> query = threads.submit(() -> execute(st, LONG_QUERY));
            await("the long query running upstream", () -> running(pid, LONG_QUERY));

            long begin = System.nanoTime();
            st.cancel();
            assertCancelled(query);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begin)).as("seconds to cancel").isLessThan(10);

            assertThat(text(c, "SELECT 41 + 1")).isEqualTo("42");
            assertThat(serverPid(c)).as("still on its server").isEqualTo(pid);
        }
    }

    @Test
    void cancelWithAWrongSecretCancelsNothing() throws Exception {
        pgmux = PgmuxHarness.start();
        try (Connection c = pgmux.connect(TestPostgres.SCRAM)) {
            int pgmuxPid = c.unwrap(PGConnection.class).getBackendPID();
            int secret = cancelSecret(c);
            int pid = serverPid(c);

            Future<Boolean> query = threads.submit(() -> execute(c, SHORT_QUERY));
            await("the short query running upstream", () -> running(pid, SHORT_QUERY));
            sendCancel(pgmux.sessionPort(), pgmuxPid, ~secret);
            sendCancel(pgmux.sessionPort(), pid, secret); // the server's own pid is nobody's key at pgmux
            assertThat(query.get(20, TimeUnit.SECONDS)).as("the query completed normally").isTrue();

            // The same request with the right secret does cancel.
            Future<Boolean> longQuery = threads.submit(() -> execute(c, LONG_QUERY));
            await("the long query running upstream", () -> running(pid, LONG_QUERY));
            sendCancel(pgmux.sessionPort(), pgmuxPid, secret);
            assertCancelled(longQuery);
            assertThat(text(c, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void cancellingOneClientNeverTouchesAnother() throws Exception {
        pgmux = PgmuxHarness.start();
        try (Connection a = pgmux.connect(TestPostgres.SCRAM);
             Connection b = pgmux.connect(TestPostgres.SCRAM);
             Statement stA = a.createStatement()) {
            int pidA = serverPid(a);
            int pidB = serverPid(b);
            assertThat(pidB).as("each client on its own server").isNotEqualTo(pidA);

            Future<Boolean> queryA = threads.submit(() -> execute(stA, LONG_QUERY));
            Future<Boolean> queryB = threads.submit(() -> execute(b, SHORT_QUERY));
            await("both queries running upstream", () -> running(pidA, LONG_QUERY) && running(pidB, SHORT_QUERY));

            stA.cancel();
            assertCancelled(queryA);
            assertThat(queryB.get(20, TimeUnit.SECONDS)).as("the other client's query completed normally").isTrue();
        }
    }

    @Test
    void keyOfAClientThatLeftDoesNotCancelTheNextClientOfItsServer() throws Exception {
        pgmux = PgmuxHarness.start(tenant -> tenant.withPoolSize(1));
        int oldPgmuxPid;
        int oldSecret;
        int pid;
        try (Connection gone = pgmux.connect(TestPostgres.SCRAM)) {
            oldPgmuxPid = gone.unwrap(PGConnection.class).getBackendPID();
            oldSecret = cancelSecret(gone);
            pid = serverPid(gone);
        }
        awaitIdle(pgmux, TestPostgres.SCRAM.name(), 1);

        try (Connection next = pgmux.connect(TestPostgres.SCRAM)) {
            assertThat(serverPid(next)).as("pool_size 1: the same server").isEqualTo(pid);
            Future<Boolean> query = threads.submit(() -> execute(next, SHORT_QUERY));
            await("the next client's query running upstream", () -> running(pid, SHORT_QUERY));
            sendCancel(pgmux.sessionPort(), oldPgmuxPid, oldSecret);
            assertThat(query.get(20, TimeUnit.SECONDS)).as("the next client's query completed normally").isTrue();
        }
    }

    private static boolean execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            return execute(st, sql);
        }
    }

    private static boolean execute(Statement st, String sql) throws SQLException {
        st.executeQuery(sql).close();
        return true;
    }

    /** The query fails soon with query_canceled. */
    private static void assertCancelled(Future<?> query) {
        ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> query.get(10, TimeUnit.SECONDS));
        assertThat(e).as("the query failed instead of completing").isNotNull();
        assertThat(e.getCause()).isInstanceOf(SQLException.class);
        assertThat(((SQLException) e.getCause()).getSQLState()).as("SQLSTATE of %s", e.getCause()).isEqualTo("57014");
    }
}
