package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.SetupAction;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The tables of the built-in scenarios: pgbench's four, with a {@code loadtest_} prefix so an existing pgbench
 * schema is left alone. Scale {@code s} means {@code s} branches, {@code 10 s} tellers and {@code 100,000 s}
 * accounts, as in pgbench. Created and loaded when missing or of another scale, in one transaction under an
 * advisory lock (so it also works through a transaction-mode pooler); the history is emptied before each run.
 */
public final class PgbenchSchema {
    public static final int ACCOUNTS_PER_BRANCH = 100_000;
    public static final int TELLERS_PER_BRANCH = 10;

    private PgbenchSchema() {}

    public static SetupAction ensure(int scale) {
        if (scale < 1) {
            throw new IllegalArgumentException("scale must be >= 1, got " + scale);
        }
        return connection -> prepare(connection, scale);
    }

    private static void prepare(Connection c, int scale) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(hashtext('pgmux-loadtest schema'))");
            st.execute("CREATE TABLE IF NOT EXISTS loadtest_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88))");
            st.execute("CREATE TABLE IF NOT EXISTS loadtest_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, filler char(84))");
            st.execute("CREATE TABLE IF NOT EXISTS loadtest_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84))");
            st.execute("CREATE TABLE IF NOT EXISTS loadtest_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))");
            long branches;
            long maxAid;
            try (ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM loadtest_branches), "
                    + "(SELECT coalesce(max(aid), 0) FROM loadtest_accounts)")) {
                rs.next();
                branches = rs.getLong(1);
                maxAid = rs.getLong(2);
            }
            if (branches != scale || maxAid != (long) scale * ACCOUNTS_PER_BRANCH) {
                st.execute("TRUNCATE loadtest_branches, loadtest_tellers, loadtest_accounts, loadtest_history");
                st.execute("INSERT INTO loadtest_branches (bid, bbalance) SELECT b, 0 FROM generate_series(1, " + scale + ") b");
                st.execute("INSERT INTO loadtest_tellers (tid, bid, tbalance) SELECT t, (t - 1) / " + TELLERS_PER_BRANCH
                        + " + 1, 0 FROM generate_series(1, " + scale * TELLERS_PER_BRANCH + ") t");
                st.execute("INSERT INTO loadtest_accounts (aid, bid, abalance) SELECT a, (a - 1) / " + ACCOUNTS_PER_BRANCH
                        + " + 1, 0 FROM generate_series(1, " + (long) scale * ACCOUNTS_PER_BRANCH + ") a");
            } else {
                st.execute("TRUNCATE loadtest_history");
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE loadtest_branches, loadtest_tellers, loadtest_accounts");
        }
    }
}
