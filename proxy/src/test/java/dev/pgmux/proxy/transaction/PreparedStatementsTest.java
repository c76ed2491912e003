package dev.pgmux.proxy.transaction;

import static dev.pgmux.proxy.testing.Pgjdbc.number;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.transaction.TransactionSupport.Holder;
import static dev.pgmux.proxy.transaction.TransactionSupport.closeAll;
import static dev.pgmux.proxy.transaction.TransactionSupport.holdAllBut;
import static dev.pgmux.proxy.transaction.TransactionSupport.props;
import static dev.pgmux.proxy.transaction.TransactionSupport.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.config.PreparedStatementsConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGStatement;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * pgjdbc's named prepared statements through the transaction port: many clients whose statements land on
 * servers that never saw them, the same client-side names meaning different SQL, Describe before any
 * execution, batches that fail midway, and the {@code strip} and {@code passthrough} modes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PreparedStatementsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final String USER = ROLE.name();
    private static final String BATCH_TABLE = "tx_ps_batch";
    private static final int STATEMENTS = 30;

    private ExecutorService threads;

    @BeforeAll
    static void createTables() throws SQLException {
        superuserSql("DROP TABLE IF EXISTS " + BATCH_TABLE,
                "CREATE TABLE " + BATCH_TABLE + " (id int PRIMARY KEY, v text NOT NULL)",
                "GRANT ALL ON " + BATCH_TABLE + " TO " + USER);
    }

    @BeforeEach
    void cleanUpstream() {
        TestPostgres.get().terminateBackends(USER);
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
    }

    private static UnaryOperator<TenantConfig> poolAndMode(int poolSize, PreparedStatementMode mode) {
        return t -> t.withPoolSize(poolSize).withPreparedStatements(PreparedStatementsConfig.defaults().withMode(mode));
    }

    // ---- the workload: 30 distinct statements with parameters, every result checked ----

    /** Statement {@code i} of the workload. */
    static String sql(int i) {
        return switch (i % 4) {
            case 0 -> "SELECT ?::int4 + " + i;
            case 1 -> "SELECT 'q" + i + ":' || ?::text";
            case 2 -> "SELECT ?::int8 * " + (i + 1) + ", ?::int4 - " + i;
            default -> "SELECT count(*) FROM generate_series(1, ?::int4) g WHERE g % " + (i + 1) + " = 0";
        };
    }

    /** Executes statement {@code i} with parameter {@code p}; returns a description of a wrong result, or null. */
    static String runAndCheck(PreparedStatement ps, int i, int p) throws SQLException {
        switch (i % 4) {
            case 0 -> ps.setInt(1, p);
            case 1 -> ps.setString(1, "v" + p);
            case 2 -> {
                ps.setLong(1, p);
                ps.setInt(2, p + 7);
            }
            default -> ps.setInt(1, p);
        }
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return "no row from " + sql(i);
            }
            String got;
            String want;
            switch (i % 4) {
                case 0 -> {
                    got = String.valueOf(rs.getInt(1));
                    want = String.valueOf(p + i);
                }
                case 1 -> {
                    got = rs.getString(1);
                    want = "q" + i + ":v" + p;
                }
                case 2 -> {
                    got = rs.getLong(1) + "," + rs.getInt(2);
                    want = ((long) p * (i + 1)) + "," + (p + 7 - i);
                }
                default -> {
                    got = String.valueOf(rs.getLong(1));
                    want = String.valueOf(p / (i + 1));
                }
            }
            if (rs.getMetaData().getColumnCount() != (i % 4 == 2 ? 2 : 1)) {
                return sql(i) + ": " + rs.getMetaData().getColumnCount() + " columns";
            }
            if (rs.next()) {
                return "more than one row from " + sql(i);
            }
            return want.equals(got) ? null : sql(i) + " with " + p + ": expected " + want + ", got " + got;
        }
    }

    record WorkloadResult(List<String> errors, long executions, long namedExecutions) {}

    /**
     * {@code clients} connections, each running the {@value #STATEMENTS} statements {@code rounds} times in an
     * order of its own (so pgjdbc's S_1, S_2, ... mean different SQL on different connections), alternating
     * autocommit rounds and rounds inside one transaction.
     */
    private WorkloadResult workload(PgmuxHarness pgmux, int clients, int rounds, Properties props) throws Exception {
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicLong executions = new AtomicLong();
        AtomicLong named = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int client = t;
            futures.add(threads.submit(() -> {
                start.await();
                Random random = new Random(client);
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < STATEMENTS; i++) {
                    order.add(i);
                }
                Collections.shuffle(order, random);
                try (Connection c = pgmux.connectTransaction(ROLE, props)) {
                    for (int round = 0; round < rounds; round++) {
                        boolean inTransaction = round % 2 == 1;
                        c.setAutoCommit(!inTransaction);
                        for (int i : order) {
                            try (PreparedStatement ps = c.prepareStatement(sql(i))) {
                                if (ps.unwrap(PGStatement.class).isUseServerPrepare()) {
                                    named.incrementAndGet();
                                }
                                String wrong = runAndCheck(ps, i, random.nextInt(100_000));
                                executions.incrementAndGet();
                                if (wrong != null) {
                                    errors.add("client " + client + " round " + round + ": " + wrong);
                                }
                            } catch (SQLException e) {
                                errors.add("client " + client + " round " + round + " " + sql(i) + ": "
                                        + e.getSQLState() + " " + e.getMessage());
                                if (inTransaction) {
                                    c.rollback();
                                }
                            }
                        }
                        // A plain Statement too: named under extendedCacheEverything, unnamed otherwise.
                        try (Statement st = c.createStatement();
                             ResultSet rs = st.executeQuery("SELECT " + (round % 5) + " + 1000")) {
                            rs.next();
                            if (rs.getInt(1) != round % 5 + 1000) {
                                errors.add("client " + client + ": plain statement gave " + rs.getInt(1));
                            }
                        }
                        if (inTransaction) {
                            c.commit();
                        }
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            try {
                f.get(150, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                errors.add("client failed: " + e.getCause());
            }
        }
        return new WorkloadResult(List.copyOf(errors), executions.get(), named.get());
    }

    static Stream<Arguments> pgjdbcModes() {
        return Stream.of(
                Arguments.of("prepareThreshold=1", props("prepareThreshold", "1")),
                Arguments.of("prepareThreshold=5 (default)", props()),
                Arguments.of("prepareThreshold=-1 (always named, binary)", props("prepareThreshold", "-1")),
                Arguments.of("extendedCacheEverything", props("prepareThreshold", "1",
                        "preferQueryMode", "extendedCacheEverything")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pgjdbcModes")
    void fiftyClientsOverFiveServersGetEveryResultRight(String label, Properties props) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(5))) {
            int clients = 50;
            int rounds = 8;

            WorkloadResult result = workload(pgmux, clients, rounds, props);

            assertThat(result.errors()).as("errors and wrong results (%s)", label).isEmpty();
            assertThat(result.executions()).isEqualTo((long) clients * rounds * STATEMENTS);
            assertThat(result.namedExecutions()).as("executions pgjdbc ran as named server statements")
                    .isGreaterThanOrEqualTo((long) clients * (rounds - 4) * STATEMENTS);
        }
    }

    @Test
    void sameClientNamesMeanDifferentStatementsOnOneServer() throws Exception {
        // Both clients on the one server, turn by turn.
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(1))) {
            Properties props = props("prepareThreshold", "1");
            try (Connection a = pgmux.connectTransaction(ROLE, props);
                 Connection b = pgmux.connectTransaction(ROLE, props)) {
                // a names statement 0 S_1 and statement 1 S_2; b the other way round.
                int[] orderA = {0, 1, 2, 3};
                int[] orderB = {3, 2, 1, 0};
                for (int round = 0; round < 20; round++) {
                    for (int k = 0; k < 4; k++) {
                        int p = round * 100 + k;
                        try (PreparedStatement ps = a.prepareStatement(sql(orderA[k]))) {
                            assertThat(runAndCheck(ps, orderA[k], p)).isNull();
                        }
                        try (PreparedStatement ps = b.prepareStatement(sql(orderB[k]))) {
                            assertThat(runAndCheck(ps, orderB[k], p)).isNull();
                        }
                    }
                }
                // The server knows only pgmux's names, one per distinct statement, shared by both clients.
                List<String> names = new ArrayList<>();
                try (Statement st = a.createStatement();
                     ResultSet rs = st.executeQuery("SELECT name FROM pg_prepared_statements"
                             + " WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY name")) {
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                }
                assertThat(names).hasSize(4).allSatisfy(n -> assertThat(n).doesNotStartWith("S_"));
            }
        }
    }

    @Test
    void describeBeforeExecutionOnAServerThatNeverSawTheStatement() throws Exception {
        int poolSize = 2;
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(poolSize))) {
            Properties props = props("prepareThreshold", "1");
            String query = "SELECT ?::int4 AS n, ?::text || 'x' AS t, now() AS at";
            try (Connection c = pgmux.connectTransaction(ROLE, props)) {
                // Prepare (named, S_1) and execute on one server, seen from inside the transaction.
                c.setAutoCommit(false);
                int preparedOn;
                try (PreparedStatement ps = c.prepareStatement(query)) {
                    ps.setInt(1, 1);
                    ps.setString(2, "a");
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(2)).isEqualTo("ax");
                    }
                    assertThat(ps.unwrap(PGStatement.class).isUseServerPrepare()).isTrue();
                }
                preparedOn = serverPid(c);
                c.commit();
                c.setAutoCommit(true);

                // Every other server busy except one that never saw the statement.
                List<Holder> holders = holdAllBut(pgmux, ROLE, poolSize, null, preparedOn, props());
                try {
                    // pgjdbc knows the statement is prepared for these parameter types: it sends Describe(S_1) and
                    // Sync, no Parse.
                    try (PreparedStatement ps = c.prepareStatement(query)) {
                        ps.setInt(1, 0);
                        ps.setString(2, "");
                        ResultSetMetaData meta = ps.getMetaData();
                        assertThat(meta.getColumnCount()).isEqualTo(3);
                        assertThat(meta.getColumnName(1)).isEqualTo("n");
                        assertThat(meta.getColumnType(1)).isEqualTo(Types.INTEGER);
                        assertThat(meta.getColumnName(2)).isEqualTo("t");
                        assertThat(meta.getColumnTypeName(3)).isEqualTo("timestamptz");
                    }
                    try (PreparedStatement ps = c.prepareStatement(query)) {
                        ps.setInt(1, 0);
                        ps.setString(2, "");
                        ParameterMetaData params = ps.getParameterMetaData();
                        assertThat(params.getParameterCount()).isEqualTo(2);
                        assertThat(params.getParameterType(1)).isEqualTo(Types.INTEGER);
                        assertThat(params.getParameterType(2)).isEqualTo(Types.VARCHAR);
                    }
                    // And then it executes there too, in a transaction that shows where it ran.
                    c.setAutoCommit(false);
                    try (PreparedStatement ps = c.prepareStatement(query)) {
                        ps.setInt(1, 42);
                        ps.setString(2, "b");
                        try (ResultSet rs = ps.executeQuery()) {
                            assertThat(rs.next()).isTrue();
                            assertThat(rs.getInt(1)).isEqualTo(42);
                            assertThat(rs.getString(2)).isEqualTo("bx");
                        }
                    }
                    assertThat(serverPid(c)).as("the server that never saw the statement").isNotEqualTo(preparedOn);
                    c.commit();
                } finally {
                    closeAll(holders);
                }
            }
        }
    }

    @Test
    void describeOfAStatementNoServerHasYet() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            try (Connection c = pgmux.connectTransaction(ROLE, props("prepareThreshold", "1"))) {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int8 AS big, ?::date AS day")) {
                    ParameterMetaData params = ps.getParameterMetaData();
                    assertThat(params.getParameterCount()).isEqualTo(2);
                    assertThat(params.getParameterType(1)).isEqualTo(Types.BIGINT);
                    assertThat(params.getParameterType(2)).isEqualTo(Types.DATE);
                    assertThat(ps.getMetaData().getColumnName(2)).isEqualTo("day");
                    ps.setLong(1, 7);
                    ps.setDate(2, java.sql.Date.valueOf("2024-02-29"));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getLong(1)).isEqualTo(7);
                        assertThat(rs.getDate(2)).isEqualTo(java.sql.Date.valueOf("2024-02-29"));
                    }
                }
            }
        }
    }

    // ---- batches that fail midway behave as on a direct connection ----

    record BatchOutcome(List<Integer> failedCounts, String sqlState, String nextSqlState, String firstMessageLine,
                        long rowsAfterFailure, List<Integer> goodCounts, long rowsAtEnd) {}

    /** Inserts 1..10 in a batch where id 5 already exists; then a good batch 11..20. */
    private static BatchOutcome batchScenario(Connection c, boolean autoCommit) throws SQLException {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("DELETE FROM " + BATCH_TABLE);
            st.execute("INSERT INTO " + BATCH_TABLE + " VALUES (5, 'already there')");
        }
        c.setAutoCommit(autoCommit);
        String insert = "INSERT INTO " + BATCH_TABLE + " (id, v) VALUES (?, ?)";
        BatchUpdateException failure = null;
        try (PreparedStatement ps = c.prepareStatement(insert)) {
            for (int id = 1; id <= 10; id++) {
                ps.setInt(1, id);
                ps.setString(2, "row " + id);
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (BatchUpdateException e) {
            failure = e;
        }
        assertThat((Object) failure).as("the batch with a duplicate key fails").isNotNull();
        if (!autoCommit) {
            c.rollback();
        }
        long rowsAfterFailure = count(c);
        int[] good;
        try (PreparedStatement ps = c.prepareStatement(insert)) {
            for (int id = 11; id <= 20; id++) {
                ps.setInt(1, id);
                ps.setString(2, "row " + id);
                ps.addBatch();
            }
            good = ps.executeBatch();
        }
        if (!autoCommit) {
            c.commit();
        }
        long rowsAtEnd = count(c);
        c.setAutoCommit(true);
        SQLException next = failure.getNextException();
        return new BatchOutcome(Arrays.stream(failure.getUpdateCounts()).boxed().toList(), failure.getSQLState(),
                next == null ? null : next.getSQLState(), failure.getMessage().lines().findFirst().orElse(""),
                rowsAfterFailure, Arrays.stream(good).boxed().toList(), rowsAtEnd);
    }

    private static long count(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + BATCH_TABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Stream<Arguments> batchModes() {
        return Stream.of(
                Arguments.of("0", true), Arguments.of("0", false),
                Arguments.of("1", true), Arguments.of("1", false),
                Arguments.of("5", true), Arguments.of("5", false));
    }

    @ParameterizedTest(name = "prepareThreshold={0} autocommit={1}")
    @MethodSource("batchModes")
    void aBatchFailingMidwayBehavesAsOnADirectConnection(String threshold, boolean autoCommit) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            Properties props = props("prepareThreshold", threshold);
            BatchOutcome direct;
            Properties directProps = props("user", USER, "password", ROLE.password(), "sslmode", "disable",
                    "prepareThreshold", threshold);
            try (Connection c = java.sql.DriverManager.getConnection(TestPostgres.get().jdbcUrl("postgres"), directProps)) {
                batchScenario(c, autoCommit); // once to have the statement prepared, as in the second run below
                direct = batchScenario(c, autoCommit);
            }
            try (Connection c = pgmux.connectTransaction(ROLE, props)) {
                TransactionSupport.warm(pgmux, ROLE, 2); // two servers in the pool, so the runs below may move between them
                BatchOutcome first = batchScenario(c, autoCommit);
                BatchOutcome second = batchScenario(c, autoCommit);
                assertThat(first).as("through pgmux, first run").isEqualTo(direct);
                assertThat(second).as("through pgmux, second run").isEqualTo(direct);
                assertThat(number(c, "SELECT 41 + 1")).as("the connection stays usable").isEqualTo(42);
            }
            assertThat(direct.sqlState()).isEqualTo("23505");
        }
    }

    // ---- strip and passthrough ----

    @Test
    void stripModeServesNamedStatementsUnderConcurrency() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(poolAndMode(5, PreparedStatementMode.STRIP))) {
            WorkloadResult result = workload(pgmux, 30, 6, props("prepareThreshold", "1"));
            assertThat(result.errors()).as("errors and wrong results in strip mode").isEmpty();
            assertThat(result.namedExecutions()).as("pgjdbc sent named statements").isEqualTo(30L * 6 * STATEMENTS);

            // Nothing of the clients' statements is left on the servers.
            try (Connection c = pgmux.connectTransaction(ROLE, props("prepareThreshold", "1"))) {
                for (int i = 0; i < 5; i++) {
                    try (PreparedStatement ps = c.prepareStatement(sql(i))) {
                        assertThat(runAndCheck(ps, i, 9)).isNull();
                    }
                }
                assertThat(number(c, "SELECT count(*) FROM pg_prepared_statements")).isZero();
            }
        }
    }

    @Test
    void stripModeBatchesAndDescribe() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(poolAndMode(2, PreparedStatementMode.STRIP))) {
            try (Connection c = pgmux.connectTransaction(ROLE, props("prepareThreshold", "1"))) {
                BatchOutcome outcome = batchScenario(c, true);
                assertThat(outcome.sqlState()).isEqualTo("23505");
                assertThat(outcome.goodCounts()).isEqualTo(Collections.nCopies(10, 1));
                assertThat(outcome.rowsAtEnd()).isEqualTo(outcome.rowsAfterFailure() + 10);
                try (PreparedStatement ps = c.prepareStatement(sql(2))) {
                    assertThat(runAndCheck(ps, 2, 5)).isNull();
                }
                try (PreparedStatement ps = c.prepareStatement(sql(2))) {
                    assertThat(ps.getMetaData().getColumnCount()).isEqualTo(2);
                    assertThat(ps.getParameterMetaData().getParameterType(1)).isEqualTo(Types.BIGINT);
                }
            }
        }
    }

    @Test
    void passthroughModeServesUnnamedStatements() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(poolAndMode(2, PreparedStatementMode.PASSTHROUGH))) {
            WorkloadResult result = workload(pgmux, 10, 4, props("prepareThreshold", "0"));
            assertThat(result.errors()).as("errors and wrong results in passthrough mode").isEmpty();
            assertThat(result.executions()).isEqualTo(10L * 4 * STATEMENTS);
            assertThat(result.namedExecutions()).as("prepareThreshold=0: only unnamed statements").isZero();
        }
    }
}
