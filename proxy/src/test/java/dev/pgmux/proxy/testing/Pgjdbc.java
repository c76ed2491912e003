package dev.pgmux.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.WireClient.Wire;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.core.TransactionState;
import org.postgresql.util.PSQLException;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What tests need of pgjdbc and of the wire around it: one-value queries, expected failures, cancel keys, its
 * socket; and counts of what the test Postgres runs, as its superuser sees them.
 */
public final class Pgjdbc {
    private Pgjdbc() {}

    /** The first column of the first row of {@code sql}, as text. */
    public static String text(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getString(1);
        }
    }

    /** The first column of the first row of {@code sql}, as a number. */
    public static long number(Connection c, String sql) throws SQLException {
        return Long.parseLong(text(c, sql));
    }

    /** The upstream process id of the server the connection's statement runs on. */
    public static int serverPid(Connection c) throws SQLException {
        return (int) number(c, "SELECT pg_backend_pid()");
    }

    /** Runs {@code call}, which must fail with an SQLException, and returns it. */
    public static SQLException sqlError(ThrowingCallable call) {
        SQLException e = catchThrowableOfType(SQLException.class, call);
        assertThat((Object) e).as("the SQLException thrown").isNotNull();
        return e;
    }

    /** Runs {@code call}, which must fail with an SQLException carrying a server error, and returns it. */
    public static PSQLException serverError(ThrowingCallable call) {
        PSQLException e = catchThrowableOfType(PSQLException.class, call);
        assertThat((Object) e).as("the PSQLException thrown").isNotNull();
        assertThat(e.getServerErrorMessage()).as("server error of %s", e).isNotNull();
        return e;
    }

    /**
     * Whether the server behind this connection is outside any transaction after a statement in autocommit
     * mode, as its ReadyForQuery said: a server left inside someone else's transaction would say otherwise.
     */
    public static boolean idleOutsideTransaction(Connection c) throws SQLException {
        text(c, "SELECT 1");
        return c.unwrap(BaseConnection.class).getTransactionState() == TransactionState.IDLE;
    }

    /** The cancel secret pgmux handed to this connection in BackendKeyData (pgjdbc keeps it private). */
    public static int cancelSecret(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field key = QueryExecutorBase.class.getDeclaredField("cancelKey");
        key.setAccessible(true);
        return key.getInt(executor);
    }

    /** The socket pgjdbc talks to pgmux over. */
    public static Socket socket(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field stream = QueryExecutorBase.class.getDeclaredField("pgStream");
        stream.setAccessible(true);
        return ((PGStream) stream.get(executor)).getSocket();
    }

    /** Resets the client's socket (RST, as when its process is killed), whatever pgjdbc is doing with it. */
    public static void kill(Connection c) throws Exception {
        Socket socket = socket(c);
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /**
     * Sends a CancelRequest of its own to pgmux, as a driver does, and returns once pgmux has dealt with it
     * and closed the connection.
     */
    public static void sendCancel(int port, int processId, int secretKey) throws IOException {
        try (WireClient client = WireClient.connect("cancel request", "127.0.0.1", port, Wait.DEFAULT)) {
            client.send(Wire.cancelRequest(processId, secretKey));
            assertThat(client.readByte()).as("pgmux answers a CancelRequest by closing the connection").isEqualTo(-1);
        }
    }

    /** A count over pg_stat_activity or another catalog, as the test Postgres' superuser; a null parameter is text. */
    public static long superuserCount(String sql, Object... parameters) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); PreparedStatement ps = su.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                if (parameters[i] == null) {
                    ps.setString(i + 1, null);
                } else {
                    ps.setObject(i + 1, parameters[i]);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Upstream backends running exactly {@code query} right now. */
    public static long running(String query) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = ?", query);
    }

    /** Upstream client backends of {@code role} in {@code state} (any state when null). */
    public static long backends(String role, String state) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND backend_type = 'client backend'"
                + " AND (?::text IS NULL OR state = ?)", role, state, state);
    }

    /** Upstream backends of {@code role} inside a transaction without running anything (aborted or not). */
    public static long idleInTransaction(String role) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE usename = ?"
                + " AND state LIKE 'idle in transaction%'", role);
    }

    /** Whether the upstream backend with this pid still exists. */
    public static boolean backendAlive(int pid) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid) > 0;
    }
}
