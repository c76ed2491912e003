package dev.pgmux.proxy.transaction;

import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** What the transaction-mode integration tests share: connection properties, and placing clients on servers. */
final class TransactionSupport {
    private TransactionSupport() {}

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
