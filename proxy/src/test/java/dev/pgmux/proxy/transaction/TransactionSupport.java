package dev.pgmux.proxy.transaction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** What the transaction-mode integration tests share: queries, server placement, upstream observation, bounded waits. */
final class TransactionSupport {
    /** How long a condition that should hold soon may take before a test gives up on it. */
    static final Duration WAIT = Duration.ofSeconds(15);

    private TransactionSupport() {}

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

    /**
     * pgjdbc connection properties; every connection gets a socket timeout, so that a response pgmux never
     * delivers fails the test instead of blocking it (a blocked socket read ignores JUnit's timeout).
     */
    static Properties props(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("socketTimeout", "30");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
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

    /** The upstream process id of the server the connection's statement runs on. */
    static int serverPid(Connection c) throws SQLException {
        return (int) number(c, "SELECT pg_backend_pid()");
    }

    /** Runs {@code call}, which must fail with an SQLException, and returns it. */
    static SQLException sqlError(ThrowingCallable call) {
        SQLException e = catchThrowableOfType(SQLException.class, call);
        assertThat((Object) e).as("the SQLException thrown").isNotNull();
        return e;
    }

    /** Upstream client backends of {@code role} in {@code state} (any state when null), seen by a superuser. */
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

    /** The pool of {@code role} on database postgres, if a client of that role ever needed one. */
    static Optional<ServerPool> pool(PgmuxHarness pgmux, String role) {
        return pgmux.server().runtime().pools().all().stream()
                .filter(p -> p.key().user().equals(role) && p.key().database().equals("postgres"))
                .findFirst();
    }

    /** Runs superuser DDL/DML directly on the test Postgres. */
    static void superuserSql(String... statements) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    /**
     * A client of pgmux's transaction port that holds one server: a transaction is open, so pgmux cannot give
     * that server to anybody else until {@link #release()}.
     */
    static final class Holder implements AutoCloseable {
        final Connection connection;
        final int pid;

        private Holder(Connection connection, int pid) {
            this.connection = connection;
            this.pid = pid;
        }

        static Holder open(PgmuxHarness pgmux, TestRole role, Properties props) throws SQLException {
            Connection c = pgmux.connectTransaction(role, props);
            try {
                c.setAutoCommit(false);
                return new Holder(c, serverPid(c));
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
        }

        static Holder open(PgmuxHarness pgmux, TestRole role) throws SQLException {
            return open(pgmux, role, props());
        }

        /** Ends the transaction: the server goes back to the pool. */
        void release() throws SQLException {
            connection.commit();
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    /**
     * With a pool of {@code poolSize} servers, takes all of them with holders and then releases exactly the one
     * with upstream pid {@code freePid}, if given, so that the next checkout of any client lands there; without
     * {@code freePid}, releases one whose pid is not {@code avoidPid}. Returns the holders still holding.
     */
    static List<Holder> holdAllBut(PgmuxHarness pgmux, TestRole role, int poolSize, Integer freePid, Integer avoidPid,
                                   Properties props) throws SQLException {
        List<Holder> holders = new ArrayList<>();
        for (int i = 0; i < poolSize; i++) {
            holders.add(Holder.open(pgmux, role, props));
        }
        assertThat(holders.stream().map(h -> h.pid).distinct().count())
                .as("%d holders in open transactions hold %d distinct servers", poolSize, poolSize)
                .isEqualTo(poolSize);
        Holder toRelease = null;
        for (Holder h : holders) {
            if (freePid != null ? h.pid == freePid : h.pid != avoidPid) {
                toRelease = h;
                break;
            }
        }
        assertThat(toRelease).as("a holder on the server to free (pid %s, not %s)", freePid, avoidPid).isNotNull();
        toRelease.release();
        toRelease.close();
        holders.remove(toRelease);
        return holders;
    }

    /** Makes the pool open {@code servers} servers (by holding them all at once), then gives them all back. */
    static void warm(PgmuxHarness pgmux, TestRole role, int servers) throws SQLException {
        List<Holder> holders = new ArrayList<>();
        try {
            for (int i = 0; i < servers; i++) {
                holders.add(Holder.open(pgmux, role));
            }
            assertThat(holders.stream().map(h -> h.pid).distinct().count()).isEqualTo(servers);
        } finally {
            closeAll(holders);
        }
    }

    static void closeAll(List<Holder> holders) throws SQLException {
        for (Holder h : holders) {
            h.connection.rollback();
            h.close();
        }
    }
}
