package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Errors on both ports end where they end on a direct connection: a failed statement leaves the connection
 * usable, a failed transaction refuses everything (25P02) until it is rolled back, a savepoint rolls back
 * to its own point, a failed batch fails whole; and with more clients than servers, each client's errors
 * stay its own.
 */
@Timeout(120)
class ErrorRecoveryTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final int POOL_SIZE = 2;

    // Session clients queue for a server at login: the checkout timeout leaves room for the others' work.
    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(
            tenant -> tenant.withPoolSize(POOL_SIZE).withCheckoutTimeout(Duration.ofSeconds(30)));

    @ParameterizedTest
    @EnumSource(Port.class)
    void aSyntaxErrorLeavesTheConnectionUsable(Port port) throws Exception {
        // Both of pgjdbc's ways to send a statement: extended protocol (its default) and simple Query.
        for (String mode : List.of("extended", "simple")) {
            Properties props = new Properties();
            props.setProperty("preferQueryMode", mode);
            try (Connection c = port.connect(pgmux.get(), ROLE, props)) {
                for (int i = 0; i < 3; i++) {
                    assertThat(sqlState(() -> text(c, "SELEC 1"))).as("%s query mode", mode).isEqualTo("42601");
                    assertThat(text(c, "SELECT 'usable " + i + "'")).isEqualTo("usable " + i);
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT ? FROM WHERE")) {
                    ps.setInt(1, 1);
                    assertThat(sqlState(ps::executeQuery)).as("%s query mode, with a parameter", mode).isEqualTo("42601");
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                    ps.setInt(1, 41);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo(42);
                    }
                }
                assertThat(transactionState(c)).isEqualTo(TransactionState.IDLE);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aFailedTransactionRefusesEveryStatementUntilRollback(Port port) throws Exception {
        String table = freshTable(port, "recovery_aborted", "id int PRIMARY KEY");
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO " + table + " VALUES (1)");
            assertThat(sqlState(() -> text(c, "SELECT 1 / 0"))).isEqualTo("22012");
            assertThat(transactionState(c)).isEqualTo(TransactionState.FAILED);
            for (String sql : List.of("SELECT 1", "INSERT INTO " + table + " VALUES (2)", "SELECT 2")) {
                SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute(sql));
                assertThat((Object) e).as("%s in a failed transaction", sql).isNotNull();
                assertThat(e.getSQLState()).as("%s in a failed transaction: %s", sql, e).isEqualTo("25P02");
            }
            c.rollback();
            assertThat(transactionState(c)).isEqualTo(TransactionState.IDLE);
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows of the failed transaction").isEqualTo("0");
            st.executeUpdate("INSERT INTO " + table + " VALUES (3)");
            c.commit();
            c.setAutoCommit(true);
            assertThat(text(c, "SELECT string_agg(id::text, ',') FROM " + table)).isEqualTo("3");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void rollbackToASavepointRecoversTheTransaction(Port port) throws Exception {
        String table = freshTable(port, "recovery_savepoint", "id int PRIMARY KEY");
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO " + table + " VALUES (1), (2)");
            Savepoint beforeError = c.setSavepoint("before_error");
            st.executeUpdate("INSERT INTO " + table + " VALUES (3)");
            assertThat(sqlState(() -> st.executeUpdate("INSERT INTO " + table + " VALUES (1)"))).isEqualTo("23505");
            assertThat(sqlState(() -> text(c, "SELECT 1"))).isEqualTo("25P02");
            c.rollback(beforeError);
            assertThat(transactionState(c)).as("still inside the transaction").isEqualTo(TransactionState.OPEN);
            assertThat(text(c, "SELECT string_agg(id::text, ',' ORDER BY id) FROM " + table)).isEqualTo("1,2");
            st.executeUpdate("INSERT INTO " + table + " VALUES (4)");
            c.commit();
            c.setAutoCommit(true);
        }
        try (Connection other = port.connect(pgmux.get(), ROLE)) {
            assertThat(text(other, "SELECT string_agg(id::text, ',' ORDER BY id) FROM " + table))
                    .as("rows committed").isEqualTo("1,2,4");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aBatchWithAFailingStatementFailsWholeAndTheConnectionStaysUsable(Port port) throws Exception {
        String table = freshTable(port, "recovery_batch", "id int PRIMARY KEY");
        try (Connection c = port.connect(pgmux.get(), ROLE);
             PreparedStatement insert = c.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
            for (int id : new int[] {1, 2, 3, 2, 5}) {
                insert.setInt(1, id);
                insert.addBatch();
            }
            BatchUpdateException e = catchThrowableOfType(BatchUpdateException.class, insert::executeBatch);
            assertThat((Object) e).as("a batch inserting a key twice").isNotNull();
            assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo("23505");
            SQLException cause = e.getNextException();
            assertThat((Object) cause).as("the failed statement's own error").isNotNull();
            assertThat(cause.getSQLState()).isEqualTo("23505");
            assertThat(cause.getMessage()).contains("duplicate key");
            // pgjdbc ends an autocommit batch with one Sync: it is one implicit transaction, rolled back whole.
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows of the failed batch").isEqualTo("0");
            assertThat(transactionState(c)).isEqualTo(TransactionState.IDLE);

            for (int id = 10; id < 15; id++) {
                insert.setInt(1, id);
                insert.addBatch();
            }
            assertThat(insert.executeBatch()).containsExactly(1, 1, 1, 1, 1);
            assertThat(text(c, "SELECT string_agg(id::text, ',' ORDER BY id) FROM " + table)).isEqualTo("10,11,12,13,14");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void manyClientsOnFewServersEachRecoverFromTheirOwnErrors(Port port) throws Exception {
        String table = freshTable(port, "recovery_shared", "client int, round int, PRIMARY KEY (client, round)");
        int clients = 8;
        int rounds = 4;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int client = 0; client < clients; client++) {
                int me = client;
                work.add(threads.submit(() -> {
                    go.await();
                    runClient(port, table, me, rounds);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : work) {
                f.get(90, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).as("client threads finished").isTrue();
        }

        pgmux.get().awaitQuiet(ROLE);
        ServerPool.Stats stats = pgmux.get().stats(ROLE);
        assertThat(stats.open()).as("servers open: %s", stats).isLessThanOrEqualTo(POOL_SIZE);
        assertThat(stats.waiting()).as("clients waiting: %s", stats).isZero();
        assertThat(Pgjdbc.idleInTransaction(ROLE.name())).as("servers left inside a transaction").isZero();
        try (Connection c = port.connect(pgmux.get(), ROLE)) {
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows committed").isEqualTo(String.valueOf(clients * rounds));
            assertThat(text(c, "SELECT count(DISTINCT client) FROM " + table)).isEqualTo(String.valueOf(clients));
        }
    }

    /**
     * Each round: a transaction that fails on a duplicate key, is refused while failed and rolled back, then
     * one that commits the round's row. The client checks what it sees after each step.
     */
    private static void runClient(Port port, String table, int me, int rounds) throws SQLException {
        String mine = "SELECT count(*) FROM " + table + " WHERE client = " + me;
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int round = 0; round < rounds; round++) {
                String insert = "INSERT INTO " + table + " VALUES (" + me + ", " + round + ")";
                st.executeUpdate(insert);
                assertThat(sqlState(() -> st.executeUpdate(insert))).as("client %d round %d", me, round).isEqualTo("23505");
                assertThat(sqlState(() -> text(c, mine))).as("client %d round %d", me, round).isEqualTo("25P02");
                c.rollback();
                assertThat(text(c, mine)).as("client %d rows after rollback %d", me, round).isEqualTo(String.valueOf(round));
                st.executeUpdate(insert);
                c.commit();
            }
            c.setAutoCommit(true);
            assertThat(transactionState(c)).isEqualTo(TransactionState.IDLE);
            assertThat(text(c, "SELECT string_agg(round::text, ',' ORDER BY round) FROM " + table + " WHERE client = " + me))
                    .as("client %d rows", me)
                    .isEqualTo(String.join(",", IntStream.range(0, rounds).mapToObj(String::valueOf).toList()));
        }
    }

    /** A new empty table of this test and port, so the ports and reruns never share rows. */
    private static String freshTable(Port port, String prefix, String columns) throws SQLException {
        String table = prefix + "_" + port.name().toLowerCase();
        try (Connection c = port.connect(pgmux.get(), ROLE); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
            st.execute("CREATE TABLE " + table + " (" + columns + ")");
        }
        return table;
    }

    /** Work that fails with an SQLException. */
    @FunctionalInterface
    private interface Failing {
        Object run() throws Exception;
    }

    /** The SQLSTATE {@code work} fails with; fails the test when it succeeds. */
    private static String sqlState(Failing work) {
        SQLException e = catchThrowableOfType(SQLException.class, work::run);
        assertThat((Object) e).as("an SQLException").isNotNull();
        return e.getSQLState();
    }

    /** The transaction status of the client's last ReadyForQuery, as pgjdbc tracks it. */
    private static TransactionState transactionState(Connection c) throws SQLException {
        return c.unwrap(BaseConnection.class).getTransactionState();
    }
}
