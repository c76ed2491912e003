package dev.pgmux.proxy.faults;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/** Small helpers shared by the fault tests: bounded polling, one-value queries, admin HTTP, pool counters. */
final class FaultSupport {
    private FaultSupport() {}

    /** A condition that may throw while it is not met yet. */
    @FunctionalInterface
    interface Check {
        boolean met() throws Exception;
    }

    /**
     * Polls {@code check} until it holds, at most {@code max}; fails with {@code what} and the last state
     * (from {@code state}) otherwise. Exceptions from the check count as "not yet" and are reported.
     */
    static void awaitCondition(String what, Duration max, Check check, Supplier<String> state) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        Exception last = null;
        for (;;) {
            try {
                if (check.met()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError error = new AssertionError("not within " + max.toMillis() + " ms: " + what
                        + "; last state: " + state.get() + (last == null ? "" : "; last error: " + last));
                if (last != null) {
                    error.initCause(last);
                }
                throw error;
            }
            Thread.sleep(25); // poll interval of a bounded wait on a real condition
        }
    }

    static void awaitCondition(String what, Duration max, Check check) throws InterruptedException {
        awaitCondition(what, max, check, () -> "-");
    }

    static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from: " + sql);
            }
            return rs.getString(1);
        }
    }

    /**
     * Whether the server behind this connection is outside any transaction after a statement in autocommit
     * mode, as its ReadyForQuery said: a server left inside someone else's transaction would say otherwise.
     */
    static boolean idleOutsideTransaction(Connection c) throws SQLException {
        queryString(c, "SELECT 1");
        return c.unwrap(BaseConnection.class).getTransactionState() == TransactionState.IDLE;
    }

    static long queryLong(Connection c, String sql) throws SQLException {
        return Long.parseLong(queryString(c, sql));
    }

    /** A count over pg_stat_activity or another catalog, as the test Postgres' superuser, with one text parameter. */
    static long superuserCount(String sql, Object parameter) throws SQLException {
        try (Connection c = TestPostgres.get().superuser(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Whether a backend with this pid still exists. */
    static boolean backendAlive(int pid) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid) > 0;
    }

    /** Backends of this role that sit in an open transaction without running anything. */
    static long idleInTransaction(String role) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE usename = ?"
                + " AND state LIKE 'idle in transaction%'", role);
    }

    /** The status code of an HTTP GET on pgmux's admin port. */
    static int adminGet(PgmuxHarness pgmux, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pgmux.server().adminPort() + path))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** The counters of the pool of this tenant user on database postgres, or null if it does not exist yet. */
    static ServerPool.Stats poolStats(PgmuxHarness pgmux, String user) {
        for (ServerPool pool : pgmux.server().runtime().pools().all()) {
            if (pool.key().tenant().equals(PgmuxHarness.TENANT) && pool.key().user().equals(user)
                    && pool.key().database().equals("postgres")) {
                return pool.stats();
            }
        }
        return null;
    }

    static String allPools(PgmuxHarness pgmux) {
        List<String> lines = pgmux.server().runtime().pools().all().stream()
                .map(p -> p.key() + " " + p.stats())
                .toList();
        return String.join("; ", lines);
    }
}
