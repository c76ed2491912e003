package dev.pgmux.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.util.PSQLException;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** What the session-mode integration tests share: queries, upstream observation and bounded waits. */
final class SessionSupport {
    /** How long a condition that should hold soon may take before a test gives up on it. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private SessionSupport() {}

    /** A condition checked by {@link #await}; it may run queries. */
    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls {@code condition} every 10 ms until it holds; fails naming {@code what} after {@link #WAIT}. */
    static void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still waiting after " + WAIT.toSeconds() + " s for: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** The first column of the first row of {@code sql}, as text. */
    static String text(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getString(1);
        }
    }

    static long number(Connection c, String sql) throws SQLException {
        return Long.parseLong(text(c, sql));
    }

    /** The real upstream process id behind a connection through pgmux. */
    static int serverPid(Connection c) throws SQLException {
        return (int) number(c, "SELECT pg_backend_pid()");
    }

    /** Upstream backends of {@code role} in {@code state} (any state when null), seen by a superuser. */
    static long backends(String role, String state) throws SQLException {
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                     + " WHERE usename = ? AND backend_type = 'client backend' AND (?::text IS NULL OR state = ?)")) {
            ps.setString(1, role);
            ps.setString(2, state);
            ps.setString(3, state);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Whether upstream backend {@code pid} is running exactly {@code query} right now. */
    static boolean running(int pid, String query) throws SQLException {
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'active' AND query = ?")) {
            ps.setInt(1, pid);
            ps.setString(2, query);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) == 1;
            }
        }
    }

    /** The pool of {@code role} on database postgres, if a client of that role ever needed one. */
    static Optional<ServerPool> pool(PgmuxHarness pgmux, String role) {
        return pgmux.server().runtime().pools().all().stream()
                .filter(p -> p.key().user().equals(role) && p.key().database().equals("postgres"))
                .findFirst();
    }

    static ServerPool.Stats stats(PgmuxHarness pgmux, String role) {
        return pool(pgmux, role).orElseThrow(() -> new AssertionError("no pool for " + role)).stats();
    }

    /** Waits until the role's pool has {@code idle} idle servers and none in use (a client's release is asynchronous). */
    static void awaitIdle(PgmuxHarness pgmux, String role, int idle) throws Exception {
        await("pool of " + role + " with " + idle + " idle server(s) and none active", () -> {
            ServerPool.Stats s = stats(pgmux, role);
            return s.idle() == idle && s.active() == 0 && s.connecting() == 0;
        });
    }

    /** The harness's one tenant. */
    static Tenant tenant(PgmuxHarness pgmux) {
        return pgmux.server().runtime().tenants().all().iterator().next();
    }

    /** Runs {@code call}, which must fail with an SQLException carrying a server error, and returns it. */
    static PSQLException serverError(ThrowingCallable call) {
        PSQLException e = catchThrowableOfType(PSQLException.class, call);
        assertThat((Object) e).as("the PSQLException thrown").isNotNull();
        assertThat(e.getServerErrorMessage()).as("server error of %s", e).isNotNull();
        return e;
    }

    /** The cancel secret pgmux handed to this connection in BackendKeyData (pgjdbc keeps it private). */
    static int cancelSecret(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field key = QueryExecutorBase.class.getDeclaredField("cancelKey");
        key.setAccessible(true);
        return key.getInt(executor);
    }

    /** The socket pgjdbc talks to pgmux over (pgjdbc keeps it to itself). */
    static Socket clientSocket(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field stream = QueryExecutorBase.class.getDeclaredField("pgStream");
        stream.setAccessible(true);
        return ((PGStream) stream.get(executor)).getSocket();
    }

    /**
     * Sends a CancelRequest of its own to pgmux, as a driver does, and returns once pgmux has dealt with it
     * and closed the connection.
     */
    static void sendCancel(int port, int processId, int secretKey) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(16);
            out.writeInt(80877102);
            out.writeInt(processId);
            out.writeInt(secretKey);
            out.flush();
            InputStream in = socket.getInputStream();
            assertThat(in.read()).as("pgmux answers a CancelRequest by closing the connection").isEqualTo(-1);
        }
    }
}
