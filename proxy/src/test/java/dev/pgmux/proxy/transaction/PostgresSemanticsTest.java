package dev.pgmux.proxy.transaction;

import static dev.pgmux.proxy.testing.Pgjdbc.number;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static dev.pgmux.proxy.transaction.TransactionSupport.Holder;
import static dev.pgmux.proxy.transaction.TransactionSupport.closeAll;
import static dev.pgmux.proxy.transaction.TransactionSupport.holdAllBut;
import static dev.pgmux.proxy.transaction.TransactionSupport.props;
import static dev.pgmux.proxy.transaction.TransactionSupport.superuserSql;
import static dev.pgmux.proxy.transaction.TransactionSupport.warm;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a client sees through the transaction port is what Postgres itself would show it: SQL-level
 * PREPARE / EXECUTE / DEALLOCATE with their error codes, DISCARD ALL, statements after DDL, failed
 * transactions and savepoints, COPY in both directions.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PostgresSemanticsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final String USER = ROLE.name();
    private static final String DDL_TABLE = "tx_sem_ddl";
    private static final String TX_TABLE = "tx_sem_rows";
    private static final String COPY_TABLE = "tx_sem_copy";

    private ExecutorService threads;

    @BeforeAll
    static void createTables() throws SQLException {
        superuserSql("DROP TABLE IF EXISTS " + TX_TABLE, "DROP TABLE IF EXISTS " + COPY_TABLE,
                "CREATE TABLE " + TX_TABLE + " (id int PRIMARY KEY)",
                "CREATE TABLE " + COPY_TABLE + " (id int PRIMARY KEY, name text NOT NULL, amount numeric NOT NULL)",
                "GRANT ALL ON " + TX_TABLE + ", " + COPY_TABLE + " TO " + USER);
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

    private static Connection connect(PgmuxHarness pgmux, String queryMode) throws SQLException {
        return pgmux.connectTransaction(ROLE, queryMode.equals("simple")
                ? props("preferQueryMode", "simple")
                : props("preferQueryMode", queryMode, "prepareThreshold", "1"));
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String state(Connection c, String sql) {
        return sqlError(() -> exec(c, sql)).getSQLState();
    }

    // ---- SQL-level prepared statements ----

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void sqlPrepareExecuteDeallocateGiveTheErrorsPostgresGives(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            try (Connection c = connect(pgmux, queryMode)) {
                warm(pgmux, ROLE, 2); // two servers, so consecutive statements may land on either

                exec(c, "PREPARE p(int) AS SELECT $1 * 2");
                assertThat(state(c, "PREPARE p(int) AS SELECT $1 * 2")).as("the same name again").isEqualTo("42P05");
                assertThat(state(c, "PREPARE p AS SELECT 1")).as("the same name, other SQL").isEqualTo("42P05");
                assertThat(number(c, "EXECUTE p(21)")).as("still the first definition").isEqualTo(42);
                assertThat(number(c, "EXECUTE p(50)")).isEqualTo(100);

                assertThat(state(c, "EXECUTE nosuch")).isEqualTo("26000");
                assertThat(state(c, "EXECUTE nosuch(1)")).isEqualTo("26000");

                exec(c, "DEALLOCATE p");
                assertThat(state(c, "EXECUTE p(1)")).as("after DEALLOCATE").isEqualTo("26000");
                assertThat(state(c, "DEALLOCATE p")).as("DEALLOCATE of a name that is gone").isEqualTo("26000");
                exec(c, "PREPARE p(int) AS SELECT $1 * 3");
                assertThat(number(c, "EXECUTE p(5)")).as("the name is free again").isEqualTo(15);

                exec(c, "PREPARE a AS SELECT 'a'");
                exec(c, "PREPARE b AS SELECT 'b'");
                exec(c, "DEALLOCATE ALL");
                assertThat(state(c, "EXECUTE a")).isEqualTo("26000");
                assertThat(state(c, "EXECUTE b")).isEqualTo("26000");
                assertThat(state(c, "EXECUTE p(1)")).isEqualTo("26000");
                exec(c, "PREPARE a AS SELECT 'a2'");
                assertThat(text(c, "EXECUTE a")).isEqualTo("a2");
                exec(c, "DEALLOCATE PREPARE a");
                assertThat(state(c, "EXECUTE a")).isEqualTo("26000");

                // A duplicate inside a transaction aborts it, as Postgres does.
                exec(c, "PREPARE d AS SELECT 1");
                c.setAutoCommit(false);
                assertThat(state(c, "PREPARE d AS SELECT 1")).isEqualTo("42P05");
                assertThat(state(c, "SELECT 1")).isEqualTo("25P02");
                c.rollback();
                c.setAutoCommit(true);
                assertThat(number(c, "EXECUTE d")).isEqualTo(1);
            }
        }
    }

    // SQL-level PREPARE/EXECUTE are mapped when sent as a simple Query; sent through the extended
    // protocol they run as written (docs/transaction-mode.md, "What transaction mode cannot preserve").
    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple"})
    void sqlPreparedNamesBelongToOneClient(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(1))) { // every client on the same server
            try (Connection a = connect(pgmux, queryMode); Connection b = connect(pgmux, queryMode)) {
                exec(a, "PREPARE shared_name AS SELECT 'a'");
                exec(b, "PREPARE shared_name AS SELECT 'b'");
                assertThat(text(a, "EXECUTE shared_name")).isEqualTo("a");
                assertThat(text(b, "EXECUTE shared_name")).isEqualTo("b");
                exec(a, "DEALLOCATE shared_name");
                assertThat(text(b, "EXECUTE shared_name")).isEqualTo("b");
                assertThat(state(a, "EXECUTE shared_name")).isEqualTo("26000");
            }
            try (Connection c = connect(pgmux, queryMode)) {
                assertThat(state(c, "EXECUTE shared_name")).as("a new client has no statements").isEqualTo("26000");
                exec(c, "PREPARE shared_name AS SELECT 'c'");
                assertThat(text(c, "EXECUTE shared_name")).isEqualTo("c");
            }
        }
    }

    // Through the extended protocol (or in a multi-statement query) a SQL-level PREPARE or DEALLOCATE runs
    // as written. Under one of pgmux's own statement names it would break the statements pgmux keeps on
    // that server for every client: that server must serve nobody else afterwards.
    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void sqlPrepareOrDeallocateOfPgmuxNamesNeverReachAnotherClient(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(1))) { // every client on one server
            // b's statements go out unnamed (prepareThreshold 0): a named one would get a pgmux name itself.
            try (Connection a = connect(pgmux, "extended");
                 Connection b = pgmux.connectTransaction(ROLE, props("preferQueryMode", queryMode, "prepareThreshold", "0"))) {
                // Names pgmux is about to give statements (a counter from 1), taken first. In one multi-statement
                // query, so that even the simple protocol sends them as written.
                exec(b, "PREPARE pgmux_1 AS SELECT 'b1'; PREPARE pgmux_2 AS SELECT 'b2'; PREPARE pgmux_3 AS SELECT 'b3'");
                PreparedStatement named = a.prepareStatement("SELECT ?::int + 1000 AS a_statement");
                named.setInt(1, 1);
                assertThat(single(named)).as("a's statement, prepared under pgmux's first name").isEqualTo(1001);

                // b finds the name pgmux gave a's statement on the server, and drops it there.
                String serverName = text(b, "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%a' || '_statement%'");
                assertThat(serverName).startsWith("pgmux_");
                exec(b, "SELECT 1; DEALLOCATE " + serverName);
                named.setInt(1, 2);
                assertThat(single(named)).as("a's statement still works").isEqualTo(1002);
            }
        }
    }

    private static int single(PreparedStatement statement) throws SQLException {
        try (ResultSet rows = statement.executeQuery()) {
            assertThat(rows.next()).isTrue();
            return rows.getInt(1);
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void aFailedPrepareRegistersNothing(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            try (Connection c = connect(pgmux, queryMode)) {
                c.setAutoCommit(false);
                assertThat(state(c, "PREPARE f AS SELEC 1")).as("syntax error").isEqualTo("42601");
                assertThat(state(c, "SELECT 1")).isEqualTo("25P02");
                c.rollback();
                exec(c, "PREPARE f AS SELECT 5");
                assertThat(number(c, "EXECUTE f")).isEqualTo(5);
                c.commit();
                c.setAutoCommit(true);

                assertThat(state(c, "PREPARE g AS SELECT * FROM tx_sem_no_such_table")).isEqualTo("42P01");
                exec(c, "PREPARE g AS SELECT 6");
                assertThat(number(c, "EXECUTE g")).isEqualTo(6);
                assertThat(number(c, "EXECUTE f")).isEqualTo(5);
            }
        }
    }

    // SQL-level PREPARE/EXECUTE are mapped when sent as a simple Query; sent through the extended
    // protocol they run as written (docs/transaction-mode.md, "What transaction mode cannot preserve").
    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple"})
    void sqlPreparedStatementsFollowTheClientToServersThatNeverSawThem(String queryMode) throws Exception {
        int poolSize = 2;
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(poolSize))) {
            try (Connection c = connect(pgmux, queryMode)) {
                c.setAutoCommit(false);
                exec(c, "PREPARE add_k(int) AS SELECT $1 + 1000");
                int preparedOn = serverPid(c);
                c.commit();
                c.setAutoCommit(true);

                // The server that saw the PREPARE is busy: EXECUTE lands on the other one.
                List<Holder> holders = holdAllBut(pgmux, ROLE, poolSize, null, preparedOn, props());
                try {
                    c.setAutoCommit(false);
                    assertThat(number(c, "EXECUTE add_k(1)")).isEqualTo(1001);
                    assertThat(serverPid(c)).isNotEqualTo(preparedOn);
                    c.commit();
                    c.setAutoCommit(true);
                } finally {
                    closeAll(holders);
                }

                // Ten other clients churn the pool while this one keeps executing and preparing.
                AtomicBoolean done = new AtomicBoolean();
                ConcurrentLinkedQueue<String> churnErrors = new ConcurrentLinkedQueue<>();
                List<Future<?>> churn = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    churn.add(threads.submit(() -> {
                        try (Connection o = connect(pgmux, queryMode)) {
                            while (!done.get()) {
                                o.setAutoCommit(false);
                                int pid = serverPid(o);
                                exec(o, "SELECT count(*) FROM generate_series(1, 200)");
                                if (serverPid(o) != pid) {
                                    churnErrors.add("pid changed inside a transaction");
                                }
                                o.commit();
                                o.setAutoCommit(true);
                            }
                        }
                        return null;
                    }));
                }
                try {
                    for (int i = 0; i < 200; i++) {
                        assertThat(number(c, "EXECUTE add_k(" + i + ")")).isEqualTo(1000 + i);
                        if (i % 20 == 0) {
                            exec(c, "PREPARE mul_" + i + "(int) AS SELECT $1 * " + i);
                        }
                        if (i % 20 == 10) {
                            int k = i - 10;
                            assertThat(number(c, "EXECUTE mul_" + k + "(3)")).isEqualTo(3L * k);
                        }
                    }
                } finally {
                    done.set(true);
                }
                for (Future<?> f : churn) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertThat(churnErrors).isEmpty();
            }
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void discardAllClearsTheClientsStatementsAndSettings(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            String defaultTimeout;
            try (Connection direct = TestPostgres.get().connect(ROLE)) {
                defaultTimeout = text(direct, "SHOW statement_timeout");
            }
            try (Connection c = connect(pgmux, queryMode)) {
                warm(pgmux, ROLE, 2);
                exec(c, "PREPARE d1 AS SELECT 1");
                exec(c, "SET statement_timeout = '4321ms'");
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(2);
                    }
                }
                assertThat(text(c, "SHOW statement_timeout")).isEqualTo("4321ms");

                exec(c, "DISCARD ALL");

                assertThat(state(c, "EXECUTE d1")).isEqualTo("26000");
                exec(c, "PREPARE d1 AS SELECT 2");
                assertThat(number(c, "EXECUTE d1")).isEqualTo(2);
                assertThat(text(c, "SHOW statement_timeout")).as("DISCARD ALL resets settings too").isEqualTo(defaultTimeout);
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                    ps.setInt(1, 10);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(11);
                    }
                }
            }
        }
    }

    // ---- prepared statements and DDL ----

    /** Executes the prepared SELECT: null when it failed with the one error allowed after DDL, else its columns. */
    private static Integer columnsAfterDdl(Connection c, boolean mayFail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + DDL_TABLE); ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            int columns = rs.getMetaData().getColumnCount();
            assertThat(rs.getInt(1)).isEqualTo(1);
            if (columns == 2) {
                assertThat(rs.getInt(2)).isEqualTo(7);
            }
            return columns;
        } catch (SQLException e) {
            if (mayFail && "0A000".equals(e.getSQLState())
                    && e.getMessage().contains("cached plan must not change result type")) {
                return null;
            }
            throw e;
        }
    }

    interface Connector {
        Connection connect() throws SQLException;
    }

    /**
     * {@code 2 * servers} clients have {@code SELECT * FROM t} prepared (the first {@code servers} of them
     * at the same time, inside transactions, so that every server holds it); then a column is added, and each
     * of them, plus one more client, executes it again several times.
     *
     * @return every execution after the DDL that failed otherwise than the first one with 0A000, or saw the
     *         old column count
     */
    private static List<String> ddlScenario(Connector connector, int servers) throws Exception {
        superuserSql("DROP TABLE IF EXISTS " + DDL_TABLE, "CREATE TABLE " + DDL_TABLE + " (a int)",
                "INSERT INTO " + DDL_TABLE + " VALUES (1)", "GRANT ALL ON " + DDL_TABLE + " TO " + USER);
        List<Connection> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 2 * servers; i++) {
                clients.add(connector.connect());
            }
            List<Integer> pids = new ArrayList<>();
            for (int i = 0; i < servers; i++) {
                Connection c = clients.get(i);
                c.setAutoCommit(false);
                assertThat(columnsAfterDdl(c, false)).isEqualTo(1);
                pids.add(serverPid(c));
            }
            assertThat(pids).doesNotHaveDuplicates();
            for (int i = 0; i < servers; i++) {
                clients.get(i).commit();
                clients.get(i).setAutoCommit(true);
            }
            for (int i = servers; i < 2 * servers; i++) {
                assertThat(columnsAfterDdl(clients.get(i), false)).isEqualTo(1);
            }

            superuserSql("ALTER TABLE " + DDL_TABLE + " ADD COLUMN b int DEFAULT 7");
            clients.add(connector.connect()); // one that prepares the statement only now

            List<String> problems = new ArrayList<>();
            for (int k = 0; k < clients.size(); k++) {
                Connection c = clients.get(k);
                for (int i = 0; i < 2 * servers + 3; i++) {
                    try {
                        Integer columns = columnsAfterDdl(c, i == 0);
                        if (columns != null && columns != 2) {
                            problems.add("client " + k + ", execution " + i + " after the DDL: " + columns + " column(s)");
                        }
                    } catch (SQLException e) {
                        problems.add("client " + k + ", execution " + i + " after the DDL: " + e.getSQLState() + " "
                                + e.getMessage());
                    }
                }
            }
            return problems;
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
    }

    @ParameterizedTest(name = "pool_size={0}")
    @ValueSource(ints = {1, 2})
    void aPreparedSelectWorksAgainAfterAlterTable(int poolSize) throws Exception {
        Properties props = props("prepareThreshold", "1");
        Properties direct = props("prepareThreshold", "1", "user", USER, "password", ROLE.password(), "sslmode", "disable");
        assertThat(ddlScenario(() -> java.sql.DriverManager.getConnection(TestPostgres.get().jdbcUrl("postgres"), direct),
                poolSize)).as("on direct connections").isEmpty();

        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(poolSize))) {
            assertThat(ddlScenario(() -> pgmux.connectTransaction(ROLE, props), poolSize))
                    .as("executions after ALTER TABLE that a direct connection does not fail").isEmpty();
        }
    }

    // ---- failed transactions and savepoints ----

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void errorsAbortTheTransactionAndRollbackOrSavepointsRecover(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            superuserSql("TRUNCATE " + TX_TABLE);
            try (Connection c = connect(pgmux, queryMode)) {
                warm(pgmux, ROLE, 2);
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + TX_TABLE + " VALUES (?)")) {
                    c.setAutoCommit(false);
                    insert.setInt(1, 1);
                    insert.executeUpdate();
                    assertThat(state(c, "SELECT 1 / 0")).isEqualTo("22012");
                    assertThat(state(c, "SELECT 1")).isEqualTo("25P02");
                    insert.setInt(1, 2);
                    assertThat(sqlError(insert::executeUpdate).getSQLState()).isEqualTo("25P02");
                    c.rollback();
                    assertThat(number(c, "SELECT count(*) FROM " + TX_TABLE)).as("all rolled back").isZero();

                    // A savepoint: the error is undone, the transaction goes on, on the same server.
                    int pid = serverPid(c);
                    insert.setInt(1, 10);
                    insert.executeUpdate();
                    Savepoint savepoint = c.setSavepoint("before_error");
                    insert.setInt(1, 10);
                    assertThat(sqlError(insert::executeUpdate).getSQLState()).isEqualTo("23505");
                    assertThat(state(c, "SELECT 1")).isEqualTo("25P02");
                    c.rollback(savepoint);
                    assertThat(serverPid(c)).as("the transaction keeps its server").isEqualTo(pid);
                    insert.setInt(1, 11);
                    insert.executeUpdate();
                    c.commit();
                    c.setAutoCommit(true);
                }
                List<Integer> ids = new ArrayList<>();
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT id FROM " + TX_TABLE + " ORDER BY id")) {
                    while (rs.next()) {
                        ids.add(rs.getInt(1));
                    }
                }
                assertThat(ids).containsExactly(10, 11);
                // An error outside a transaction leaves nothing behind either.
                assertThat(state(c, "SELECT 1 / 0")).isEqualTo("22012");
                assertThat(number(c, "SELECT 2")).isEqualTo(2);
            }
        }
    }

    // ---- COPY ----

    private static byte[] csvRows(int from, int to) {
        StringBuilder csv = new StringBuilder();
        for (int id = from; id <= to; id++) {
            csv.append(id).append(",name-").append(id).append(',').append(id * 3L).append(".25\n");
        }
        return csv.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static byte[] copyOut(Connection c, String sql) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
        return out.toByteArray();
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void copyInAndOutCarryTheDataIntact(String queryMode) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            superuserSql("TRUNCATE " + COPY_TABLE);
            int rows = 20_000;
            byte[] input = csvRows(1, rows);
            try (Connection c = connect(pgmux, queryMode)) {
                warm(pgmux, ROLE, 2);
                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                long copied = copy.copyIn("COPY " + COPY_TABLE + " FROM STDIN WITH (FORMAT csv)", new ByteArrayInputStream(input));
                assertThat(copied).isEqualTo(rows);
                assertThat(number(c, "SELECT count(*) FROM " + COPY_TABLE)).isEqualTo(rows);
                assertThat(number(c, "SELECT sum(id) FROM " + COPY_TABLE)).isEqualTo((long) rows * (rows + 1) / 2);

                byte[] output = copyOut(c, "COPY (SELECT * FROM " + COPY_TABLE + " ORDER BY id) TO STDOUT WITH (FORMAT csv)");
                assertThat(output.length).isEqualTo(input.length);
                assertThat(sha256(output)).isEqualTo(sha256(input));

                // Bad data: the COPY fails like on Postgres, nothing of it stays, the connection goes on.
                byte[] bad = ("900001,ok,1.5\nnot-a-number,x,1\n").getBytes(StandardCharsets.UTF_8);
                SQLException e = sqlError(() -> copy.copyIn("COPY " + COPY_TABLE + " FROM STDIN WITH (FORMAT csv)",
                        new ByteArrayInputStream(bad)));
                assertThat(e.getSQLState()).isEqualTo("22P02");
                assertThat(number(c, "SELECT count(*) FROM " + COPY_TABLE)).isEqualTo(rows);

                // Inside a transaction that rolls back, on one server from BEGIN to ROLLBACK.
                c.setAutoCommit(false);
                int pid = serverPid(c);
                assertThat(copy.copyIn("COPY " + COPY_TABLE + " FROM STDIN WITH (FORMAT csv)",
                        new ByteArrayInputStream(csvRows(rows + 1, rows + 500)))).isEqualTo(500);
                assertThat(number(c, "SELECT count(*) FROM " + COPY_TABLE)).isEqualTo(rows + 500);
                assertThat(serverPid(c)).isEqualTo(pid);
                c.rollback();
                c.setAutoCommit(true);
                assertThat(number(c, "SELECT count(*) FROM " + COPY_TABLE)).isEqualTo(rows);
            }
        }
    }

    @Test
    void concurrentCopiesOverASmallPool() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            superuserSql("TRUNCATE " + COPY_TABLE);
            int clients = 6;
            int perClient = 5_000;
            List<Future<String>> results = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                int from = k * perClient + 1;
                int to = (k + 1) * perClient;
                results.add(threads.submit(() -> {
                    try (Connection c = connect(pgmux, "extended")) {
                        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                        byte[] input = csvRows(from, to);
                        assertThat(copy.copyIn("COPY " + COPY_TABLE + " FROM STDIN WITH (FORMAT csv)",
                                new ByteArrayInputStream(input))).isEqualTo(perClient);
                        byte[] output = copyOut(c, "COPY (SELECT * FROM " + COPY_TABLE + " WHERE id BETWEEN " + from
                                + " AND " + to + " ORDER BY id) TO STDOUT WITH (FORMAT csv)");
                        return sha256(output).equals(sha256(input)) ? null : "client " + from + ": data differ";
                    }
                }));
            }
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isNull();
            }
            try (Connection direct = TestPostgres.get().connect(ROLE)) {
                assertThat(number(direct, "SELECT count(*) FROM " + COPY_TABLE)).isEqualTo((long) clients * perClient);
            }
        }
    }
}
