package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.UnnamedLockstep.columns;
import static dev.pgmux.proxy.features.UnnamedLockstep.rows;
import static dev.pgmux.proxy.features.UnnamedLockstep.sqlStates;
import static dev.pgmux.proxy.model.Op.bind;
import static dev.pgmux.proxy.model.Op.closePortal;
import static dev.pgmux.proxy.model.Op.closeStatement;
import static dev.pgmux.proxy.model.Op.describePortal;
import static dev.pgmux.proxy.model.Op.describeStatement;
import static dev.pgmux.proxy.model.Op.execute;
import static dev.pgmux.proxy.model.Op.flush;
import static dev.pgmux.proxy.model.Op.parse;
import static dev.pgmux.proxy.model.Op.query;
import static dev.pgmux.proxy.model.Op.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UnnamedStatementPlans;
import dev.pgmux.proxy.model.Op;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The unnamed statement through both ports, differentially against a direct connection (byte for byte, see
 * {@link UnnamedLockstep}): on the transaction port pgmux serves it from shared server-side statements
 * ({@code cache_unnamed_statements}, turned on here), follows it across units and servers, and hides the
 * "cached plan must not change result type" a direct server could not have given; on the session port it
 * goes through as it is. Either way the client sees what a direct connection gives.
 */
@Timeout(120)
class UnnamedStatementCacheTest {
    private static final int INT4 = 23;
    private static final int TEXT = 25;
    private static final String PLUS_ONE = "SELECT $1::int + 1";

    /** Two servers, so that the transaction port's client can be moved to the other one between units. */
    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(
            tenant -> tenant.withPoolSize(2).withCheckoutTimeout(Duration.ofSeconds(5))
                    .withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true)));

    private static String table(Port port, String name) {
        return "unnamed_" + name + "_" + port.name().toLowerCase(Locale.ROOT);
    }

    /** Runs {@code sql} as the superuser on a direct connection: "another connection". */
    private static void admin(String... sql) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** A table of one row (1, 'one') the test role may read. */
    private static String freshTable(Port port, String name) throws SQLException {
        String table = table(port, name);
        admin("DROP TABLE IF EXISTS " + table, "CREATE TABLE " + table + " (a int, b text)",
                "INSERT INTO " + table + " VALUES (1, 'one')", "GRANT ALL ON " + table + " TO " + TestPostgres.SCRAM.name());
        return table;
    }

    private static Op[] run(String sql, String... parameters) {
        return new Op[] {parse("", sql), bind("", "", parameters), describePortal(""), execute(), sync()};
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void namedAndUnnamedStatementsMixed(Port port) throws IOException {
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            // The same text as a named and as the unnamed statement, used in one unit and in later ones.
            List<BackendMessage> first = c.same(parse("s1", PLUS_ONE), parse("", PLUS_ONE), bind("", "s1", "1"), execute(),
                    bind("", "", "2"), execute(), describeStatement(""), describeStatement("s1"), sync());
            assertThat(rows(first)).containsExactly(List.of("2"), List.of("3"));
            c.same(closeStatement("s1"), bind("", "", "10"), execute(), sync());
            c.same(parse("", "SELECT 'x' AS x"), parse("s2", PLUS_ONE), bind("", "s2", "4"), execute(), bind("", ""),
                    execute(), sync());
            c.same(bind("p1", "", new String[0]), bind("", "s2", "5"), execute("p1", 0), execute(), closePortal("p1"), sync());
            List<BackendMessage> last = c.same(run(PLUS_ONE, "41"));
            assertThat(rows(last)).containsExactly(List.of("42"));
            c.same(bind("", "s2", "6"), execute(), bind("", "", "7"), execute(), sync());
            c.same(closeStatement("s2"), closeStatement(""), sync());
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void errorsInTheMiddleOfPipelines(Port port) throws IOException {
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            // A bad parameter value fails the Bind; the statement stays for the next unit.
            List<BackendMessage> bad = c.same(parse("", PLUS_ONE), bind("", "", "abc"), execute(), sync(),
                    bind("", "", "5"), execute(), sync());
            assertThat(sqlStates(bad)).containsExactly("22P02");
            assertThat(rows(bad)).containsExactly(List.of("6"));
            // Division by zero at Execute; the statement stays.
            List<BackendMessage> zero = c.same(parse("", "SELECT 10 / $1::int"), bind("", "", "0"), execute(),
                    bind("", "", "2"), execute(), sync(), bind("", "", "5"), execute(), sync());
            assertThat(sqlStates(zero)).containsExactly("22012");
            assertThat(rows(zero)).containsExactly(List.of("2"));
            // A syntax error in an unnamed Parse after a good one: the previous unnamed statement is gone.
            List<BackendMessage> gone = c.same(run("SELECT 1"));
            assertThat(rows(gone)).containsExactly(List.of("1"));
            c.same(parse("", "SELEC 1"), sync());
            List<BackendMessage> missing = c.same(bind("", ""), execute(), sync(), describeStatement(""), sync());
            assertThat(sqlStates(missing)).containsExactly("26000", "26000");
            // The same within one unit: good Parse, run, bad Parse, then Bind skipped to Sync, and gone after.
            c.same(parse("", "SELECT 2"), bind("", ""), execute(), parse("", "SELEC 2"), bind("", ""), execute(), sync());
            assertThat(sqlStates(c.same(bind("", ""), execute(), sync()))).containsExactly("26000");
            // Several units in one write, the second failing: the third runs.
            List<BackendMessage> three = c.same(concat(run("SELECT 3"), run("SELECT 1/0"), run("SELECT 4")));
            assertThat(sqlStates(three)).containsExactly("22012");
            assertThat(rows(three)).containsExactly(List.of("3"), List.of("4"));
            // The last unit's statement stays.
            assertThat(sqlStates(c.same(bind("", ""), execute(), sync()))).isEmpty();
        }
    }

    /**
     * The server's copy of a statement was analysed when it was prepared; a direct server analyses the client's
     * Parse now. Errors of that analysis come at the Parse, errors of the Bind after its ParseComplete, and a
     * Parse that nothing in its unit uses is answered before what follows it.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void errorsComeWhereADirectServerGivesThemWhenTheServerHoldsTheStatement(Port port) throws Exception {
        String table = freshTable(port, "analysed");
        String select = "SELECT a + $1::int AS v FROM " + table;
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            assertThat(rows(c.same(run(select, "1")))).containsExactly(List.of("2"));
            c.same(run(select, "2")); // served from the statement the server holds, where pgmux caches
            // An error of the Bind itself, after the ParseComplete; then the statement is good for the next unit.
            List<BackendMessage> badValue = c.same(run(select, "x"));
            assertThat(sqlStates(badValue)).containsExactly("22P02");
            assertThat(rows(c.same(bind("", "", "3"), execute(), sync()))).containsExactly(List.of("4"));
            // Parses that nothing in their unit uses, alone, before a Close, before another Parse, before a Flush.
            c.same(parse("", select), sync());
            c.same(parse("", select), closeStatement(""), sync());
            c.same(parse("", select), parse("", "SELECT 5 AS five"), bind("", ""), execute(), sync());
            c.same(parse("", select), flush(), describeStatement(""), bind("", "", "4"), execute(), sync());
            c.same(parse("", select), bind("p", "", "6"), describePortal("p"), execute("p", 0), sync());

            admin("DROP TABLE " + table);
            c.note("DROP TABLE");
            List<BackendMessage> dropped = c.same(run(select, "1"));
            assertThat(sqlStates(dropped)).containsExactly("42P01");
            // The failed Parse left no unnamed statement, as on a direct server.
            assertThat(sqlStates(c.same(bind("", "", "1"), execute(), sync()))).containsExactly("26000");
            c.same(parse("", select), describeStatement(""), sync());
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void ddlBetweenExecutionsGivesTheNewShapeWithoutAnError(Port port) throws Exception {
        String table = freshTable(port, "ddl");
        String select = "SELECT * FROM " + table;
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            assertThat(columns(c.same(run(select)))).containsExactly(List.of("a", "b"));
            c.same(run(select)); // served from the shared statement where pgmux caches
            admin("ALTER TABLE " + table + " ADD COLUMN c int DEFAULT 7");
            c.note("ADD COLUMN c");
            List<BackendMessage> added = c.same(run(select));
            assertThat(sqlStates(added)).isEmpty();
            assertThat(columns(added)).containsExactly(List.of("a", "b", "c"));
            assertThat(rows(added)).containsExactly(List.of("1", "one", "7"));

            admin("ALTER TABLE " + table + " ALTER COLUMN a TYPE text");
            c.note("ALTER COLUMN a TYPE text");
            List<BackendMessage> retyped = c.same(parse("", select), describeStatement(""), bind("", ""), execute(), sync());
            assertThat(sqlStates(retyped)).isEmpty();

            // Inside a transaction block, begun by a simple query and by the extended protocol.
            admin("ALTER TABLE " + table + " ADD COLUMN d int DEFAULT 8");
            c.note("ADD COLUMN d");
            c.same(query("BEGIN"));
            List<BackendMessage> inBlock = c.same(run(select));
            assertThat(sqlStates(inBlock)).isEmpty();
            assertThat(columns(inBlock)).containsExactly(List.of("a", "b", "c", "d"));
            c.same(query("COMMIT"));
            admin("ALTER TABLE " + table + " DROP COLUMN b");
            c.note("DROP COLUMN b");
            List<BackendMessage> pipelined = c.same(concat(new Op[] {parse("", "BEGIN"), bind("", ""), execute()},
                    new Op[] {parse("", select), bind("", ""), describePortal(""), execute(), parse("", "COMMIT"),
                            bind("", ""), execute(), sync()}));
            assertThat(sqlStates(pipelined)).isEmpty();
            assertThat(columns(pipelined)).containsExactly(List.of("a", "c", "d"));

            // Parsed and described in one unit, bound after the DDL in the next: a direct server gives 0A000 here.
            c.same(parse("", select), describeStatement(""), sync());
            admin("ALTER TABLE " + table + " ADD COLUMN e int DEFAULT 9");
            c.note("ADD COLUMN e");
            List<BackendMessage> later = c.same(bind("", ""), describePortal(""), execute(), sync());
            c.same(run(select));
            assertThat(sqlStates(later)).as("what a direct server answers a Bind of a statement parsed before the DDL")
                    .containsExactly("0A000");
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void searchPathChangesBetweenExecutionsOfTheSameText(Port port) throws Exception {
        String schemaA = table(port, "path_a");
        String schemaB = table(port, "path_b");
        admin("DROP SCHEMA IF EXISTS " + schemaA + " CASCADE", "DROP SCHEMA IF EXISTS " + schemaB + " CASCADE",
                "CREATE SCHEMA " + schemaA, "CREATE SCHEMA " + schemaB,
                "CREATE TABLE " + schemaA + ".t (v int)", "INSERT INTO " + schemaA + ".t VALUES (1)",
                "CREATE TABLE " + schemaB + ".t (v text, w text)", "INSERT INTO " + schemaB + ".t VALUES ('b', 'w')",
                "GRANT USAGE ON SCHEMA " + schemaA + ", " + schemaB + " TO " + TestPostgres.SCRAM.name(),
                "GRANT SELECT ON " + schemaA + ".t, " + schemaB + ".t TO " + TestPostgres.SCRAM.name());
        String select = "SELECT * FROM t";
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            c.same(query("SET search_path = " + schemaA));
            assertThat(rows(c.same(run(select)))).containsExactly(List.of("1"));
            c.same(run(select));
            c.same(query("SET search_path = " + schemaB));
            List<BackendMessage> b = c.same(run(select));
            assertThat(sqlStates(b)).isEmpty();
            assertThat(rows(b)).containsExactly(List.of("b", "w"));
            // Set through the extended protocol, as the unnamed statement itself, then the same text again.
            c.same(parse("", "SET search_path = " + schemaA), bind("", ""), execute(), sync());
            assertThat(rows(c.same(run(select)))).containsExactly(List.of("1"));
            c.same(parse("", "SET search_path = " + schemaB), bind("", ""), execute(), sync(),
                    parse("", select), bind("", ""), describePortal(""), execute(), sync());
            c.same(query("RESET search_path"));
            // The server holds the statement, prepared under the other path: a direct server fails the Parse.
            assertThat(sqlStates(c.same(run(select)))).containsExactly("42P01");
        } finally {
            admin("DROP SCHEMA IF EXISTS " + schemaA + " CASCADE", "DROP SCHEMA IF EXISTS " + schemaB + " CASCADE");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void sameTextWithDifferentParameterTypes(Port port) throws IOException {
        String echo = "SELECT $1 AS v";
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            for (int round = 0; round < 2; round++) {
                c.same(parse("", echo, INT4), describeStatement(""), bind("", "", "7"), execute(), sync());
                c.same(parse("", echo, TEXT), describeStatement(""), bind("", "", "007"), execute(), sync());
                c.same(parse("", echo), describeStatement(""), bind("", "", "007"), execute(), sync());
                c.same(parse("", echo, 0), describeStatement(""), bind("", "", "8"), execute(), sync());
                assertThat(sqlStates(c.same(parse("", echo, INT4), bind("", "", "x"), execute(), sync())))
                        .containsExactly("22P02");
                c.same(parse("", "SELECT $1::int + $2", INT4, 0), describeStatement(""), bind("", "", "1", "2"),
                        execute(), parse("", "SELECT $1::int + $2", 0, INT4), describeStatement(""),
                        bind("", "", "3", "4"), execute(), sync());
            }
            List<BackendMessage> typed = c.same(parse("", echo, INT4), bind("", "", "0042"), execute(), sync());
            assertThat(rows(typed)).containsExactly(List.of("42"));
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void unnamedStatementGoneAfterSimpleQueryAndClose(Port port) throws IOException {
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, false)) {
            c.same(parse("", "SELECT 1"), sync());
            c.same(query("SELECT 2"));
            assertThat(sqlStates(c.same(bind("", ""), execute(), sync(), describeStatement(""), sync())))
                    .containsExactly("26000", "26000");
            // Run once first, so that where pgmux caches, the server holds the shared statement.
            c.same(run("SELECT 3"));
            c.same(parse("", "SELECT 3"), sync());
            c.same(closeStatement(""), sync());
            assertThat(sqlStates(c.same(describeStatement(""), sync(), bind("", ""), execute(), sync())))
                    .containsExactly("26000", "26000");
            // Close of a missing unnamed statement is no error; in one unit with the Parse and Bind.
            c.same(closeStatement(""), sync());
            assertThat(sqlStates(c.same(parse("", "SELECT 4"), closeStatement(""), bind("", ""), execute(), sync())))
                    .containsExactly("26000");
            // A simple query in the same write, between the Parse's unit and the Bind's.
            c.same(parse("", "SELECT 5"), sync(), query("SELECT 6"), bind("", ""), execute(), sync());
            // And inside a transaction block.
            c.same(query("BEGIN"));
            c.same(parse("", "SELECT 7"), bind("", ""), execute(), sync());
            assertThat(sqlStates(c.same(query("SELECT 8"), bind("", ""), execute(), sync()))).containsExactly("26000");
            c.same(query("ROLLBACK"));
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void unnamedStatementFollowsTheClientToAnotherServer(Port port) throws IOException {
        try (UnnamedLockstep c = UnnamedLockstep.open(pgmux.get(), port, true)) {
            c.same(parse("", PLUS_ONE), sync());
            c.switchServer();
            assertThat(rows(c.same(bind("", "", "41"), execute(), sync()))).containsExactly(List.of("42"));
            c.switchServer();
            c.same(describeStatement(""), bind("", "", "1"), describePortal(""), execute(), sync());
            // Parsed inside a transaction block, where the server parses it as its own; used after the commit.
            c.same(query("BEGIN"));
            c.same(parse("", "SELECT $1::text || '!'"), bind("", "", "in"), execute(), sync());
            // Committed as a named statement: a simple query would drop the unnamed statement.
            c.same(parse("commit", "COMMIT"), bind("", "commit"), execute(), closeStatement("commit"), sync());
            c.switchServer();
            assertThat(rows(c.same(bind("", "", "out"), execute(), sync()))).containsExactly(List.of("out!"));
            // Parsed after an Execute in its unit (the server's own unnamed statement), used elsewhere later.
            c.same(parse("", "SELECT 1"), bind("", ""), execute(), parse("", "SELECT $1::int * 2"), bind("", "", "4"),
                    execute(), sync());
            c.switchServer();
            assertThat(rows(c.same(bind("", "", "5"), execute(), sync()))).containsExactly(List.of("10"));
            // Gone after a simple query, also on another server.
            c.same(parse("", "SELECT 9"), sync(), query("SELECT 10"));
            c.switchServer();
            assertThat(sqlStates(c.same(bind("", ""), execute(), sync()))).containsExactly("26000");
            // A failed Parse on one server leaves none on the next either.
            c.same(run("SELECT 11"));
            c.same(parse("", "SELEC 12"), sync());
            c.switchServer();
            assertThat(sqlStates(c.same(describeStatement(""), sync()))).containsExactly("26000");
        }
    }

    /**
     * With one server, the shared statement standing for an unnamed one is planned for its parameters every
     * time ({@code custom}: pgmux prepares it again before Postgres could switch to a generic plan), or as
     * Postgres chooses ({@code auto}: a generic plan after five executions of a trivially cheap statement).
     */
    @ParameterizedTest
    @EnumSource(UnnamedStatementPlans.class)
    void planChoiceOnTheServer(UnnamedStatementPlans plans) throws Exception {
        String table = freshTable(Port.TRANSACTION, "plans_" + plans.configName());
        admin("ALTER TABLE " + table + " ADD PRIMARY KEY (a)",
                "INSERT INTO " + table + " SELECT g, 'row ' || g FROM generate_series(2, 100) g", "ANALYZE " + table);
        String select = "SELECT b FROM " + table + " WHERE a = $1";
        try (PgmuxHarness one = PgmuxHarness.start(tenant -> tenant.withPoolSize(1).withPreparedStatements(
                     tenant.preparedStatements().withCacheUnnamed(true).withUnnamedPlans(plans)));
             WireClient client = WireClient.login("client", "127.0.0.1", one.transactionPort(),
                     PgmuxHarness.tenantUser(TestPostgres.SCRAM), PgmuxHarness.password(TestPostgres.SCRAM), "postgres",
                     Duration.ofSeconds(10))) {
            for (int i = 2; i <= 13; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (Op op : run(select, Integer.toString(i))) {
                    op.encode(out);
                }
                WireClient.Reply reply = client.exchange(out.toByteArray(), 1);
                assertThat(reply.complete()).as("answered: %s", reply.failure()).isTrue();
                assertThat(rows(reply.messages())).as("execution %d", i).containsExactly(List.of("row " + i));
            }
            // The pool's only server: the statements it holds, as its own session sees them.
            List<BackendMessage> stats = client.query("SELECT coalesce(sum(generic_plans), -1), coalesce(sum(custom_plans), -1)"
                    + " FROM pg_prepared_statements WHERE statement = '" + select + "'");
            List<String> plansSeen = rows(stats).getFirst();
            long generic = Long.parseLong(plansSeen.get(0));
            long custom = Long.parseLong(plansSeen.get(1));
            assertThat(custom).as("custom plans of the shared statement (%s)", plansSeen).isPositive();
            if (plans == UnnamedStatementPlans.CUSTOM) {
                assertThat(generic).as("generic plans of the shared statement").isZero();
            } else {
                assertThat(generic).as("generic plans of the shared statement").isPositive();
            }
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
    }

    /**
     * On one server that holds the shared statement, DDL changes its result type: the server answers the next
     * unit's Bind with 0A000, pgmux keeps it from the client and sends the unit again (counted as a replay),
     * and the client gets the new shape, as from a direct server. Once per change: the next unit needs no replay.
     */
    @org.junit.jupiter.api.Test
    void ddlOnTheServerThatHoldsTheStatementIsRecoveredBySendingTheUnitAgain() throws Exception {
        String table = freshTable(Port.TRANSACTION, "replay");
        String select = "SELECT * FROM " + table;
        try (PgmuxHarness one = PgmuxHarness.start(tenant -> tenant.withPoolSize(1)
                     .withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true)));
             UnnamedLockstep c = UnnamedLockstep.open(one, Port.TRANSACTION, false)) {
            c.same(run(select));
            c.same(run(select)); // ParseComplete from pgmux: the only server holds the statement
            double before = replays(one);
            admin("ALTER TABLE " + table + " ADD COLUMN c int DEFAULT 7");
            c.note("ADD COLUMN c");
            List<BackendMessage> added = c.same(run(select));
            assertThat(sqlStates(added)).isEmpty();
            assertThat(columns(added)).containsExactly(List.of("a", "b", "c"));
            assertThat(replays(one) - before).as("units sent again").isEqualTo(1.0);
            List<BackendMessage> next = c.same(run(select));
            assertThat(rows(next)).containsExactly(List.of("1", "one", "7"));
            // The same when the first message to meet the change is a Describe of the statement.
            admin("ALTER TABLE " + table + " ADD COLUMN d int DEFAULT 8");
            c.note("ADD COLUMN d");
            List<BackendMessage> described = c.same(parse("", select), describeStatement(""), bind("", ""), execute(),
                    sync());
            assertThat(sqlStates(described)).isEmpty();
            assertThat(rows(described)).containsExactly(List.of("1", "one", "7", "8"));
            assertThat(replays(one) - before).as("units sent again").isEqualTo(2.0);
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
    }

    /**
     * One server for both ports: transaction-mode clients leave shared statements on it (named and unnamed
     * ones), then a session client has it, and its reset query (or the client itself) may drop them. The next
     * transaction-mode client must not be told its statement exists where it no longer does: with a reset that
     * drops statements pgmux forgets them; with none, the server is closed when it comes back.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"DISCARD ALL", ""})
    void sharedStatementsStayRightAfterASessionClientHadTheServer(String resetQuery) throws Exception {
        try (PgmuxHarness one = PgmuxHarness.start(tenant -> tenant.withPoolSize(1).withServerResetQuery(resetQuery)
                .withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true)))) {
            for (String threshold : List.of("0", "1")) {
                java.util.Properties props = new java.util.Properties();
                props.setProperty("prepareThreshold", threshold);
                // The first client stays connected, so its statement's definition (and server name) lives on.
                try (Connection tx = Port.TRANSACTION.connect(one, TestPostgres.SCRAM, props)) {
                    assertThat(selectPlusOne(tx, 1)).isEqualTo(2);
                    assertThat(selectPlusOne(tx, 2)).isEqualTo(3);
                    try (Connection session = Port.SESSION.connect(one, TestPostgres.SCRAM);
                         Statement st = session.createStatement()) {
                        st.execute("DEALLOCATE ALL"); // what a session client may do; DISCARD ALL as a reset does too
                    }
                    assertThat(selectPlusOne(tx, 41)).as("prepareThreshold %s, reset query '%s'", threshold, resetQuery)
                            .isEqualTo(42);
                }
            }
        }
    }

    private static int selectPlusOne(Connection c, int value) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
            ps.setInt(1, value);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static double replays(PgmuxHarness harness) {
        return dev.pgmux.proxy.testing.Scrape.of(harness).sum("pgmux_prepared_statements_total", "event", "replay");
    }

    private static Op[] concat(Op[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(Op[]::new);
    }
}
