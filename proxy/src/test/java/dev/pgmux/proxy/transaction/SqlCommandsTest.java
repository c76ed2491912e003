package dev.pgmux.proxy.transaction;

import dev.pgmux.proxy.transaction.SqlCommands.Command;
import dev.pgmux.proxy.transaction.SqlCommands.Command.Deallocate;
import dev.pgmux.proxy.transaction.SqlCommands.Command.DeallocateAll;
import dev.pgmux.proxy.transaction.SqlCommands.Command.DiscardAll;
import dev.pgmux.proxy.transaction.SqlCommands.Command.Execute;
import dev.pgmux.proxy.transaction.SqlCommands.Command.Other;
import dev.pgmux.proxy.transaction.SqlCommands.Command.Prepare;
import dev.pgmux.proxy.transaction.SqlCommands.Command.ResetAll;
import dev.pgmux.proxy.transaction.SqlCommands.Command.SetParameter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class SqlCommandsTest {

    // ---- analyze: one statement ----

    static Stream<Arguments> singleStatements() {
        return Stream.of(
                // SET name { TO | = } value, with or without SESSION
                set("SET search_path TO a, b", "search_path"),
                set("set Search_Path = a", "search_path"),
                set("SeT sEsSiOn statement_timeout = 5", "statement_timeout"),
                set("SET SESSION statement_timeout = 5", "statement_timeout"),
                set("SET statement_timeout TO DEFAULT", "statement_timeout"),
                set("SET work_mem FROM CURRENT", "work_mem"),
                set("SET myapp.user_id = '42'", "myapp.user_id"),
                set("SET MyApp . User_Id TO 42", "myapp.user_id"),
                set("SET \"MyApp\".User_Id = 1", "MyApp.user_id"),
                set("SET \"Odd\"\"Name\" = 1", "Odd\"Name"),
                set("SET timezone = 'UTC'", "timezone"),
                set("SET x=1", "x"),
                // the special forms
                set("SET TIME ZONE 'UTC'", "TimeZone"),
                set("set session time zone local", "TimeZone"),
                set("SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE", "TimeZone"),
                set("SET SCHEMA 'app'", "search_path"),
                set("SET NAMES 'UTF8'", "client_encoding"),
                set("SET NAMES", "client_encoding"),
                set("SET ROLE admin", "role"),
                set("SET SESSION ROLE NONE", "role"),
                set("SET SESSION AUTHORIZATION bob", "session_authorization"),
                set("SET SESSION AUTHORIZATION DEFAULT", "session_authorization"),
                set("SET SESSION SESSION AUTHORIZATION 'bob'", "session_authorization"),
                set("SET XML OPTION DOCUMENT", "xmloption"),
                // not session state, or not valid
                other("SET LOCAL search_path TO x"),
                other("set local statement_timeout = 0"),
                other("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
                other("SET SESSION TRANSACTION READ ONLY"),
                other("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'"),
                other("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
                other("SET CONSTRAINTS ALL DEFERRED"),
                other("SET"),
                other("SET SESSION"),
                other("SET x"),
                other("SET x ="),
                other("SET x TO"),
                other("SET x.y.= 1"),
                other("SET TIME ZONE"),
                other("SET ROLE"),
                other("SET SESSION AUTHORIZATION"),
                other("SET XML OPTION"),
                other("SET \"\" = 1"),
                other("SET U&\"x\" = 1"),
                other("SET 'x' = 1"),
                other("SETTINGS"),
                // RESET
                set("RESET search_path", "search_path"),
                set("reset Statement_Timeout", "statement_timeout"),
                set("RESET myapp.user_id", "myapp.user_id"),
                set("RESET \"Odd\"", "Odd"),
                set("RESET TIME ZONE", "TimeZone"),
                set("RESET SESSION AUTHORIZATION", "session_authorization"),
                set("RESET ROLE", "role"),
                arguments("RESET ALL", new ResetAll("RESET ALL")),
                arguments("reset all", new ResetAll("reset all")),
                other("RESET"),
                other("RESET a b"),
                other("RESET ALL x"),
                other("RESET TIME"),
                other("RESET TRANSACTION ISOLATION LEVEL"),
                // PREPARE
                prepare("PREPARE p (int, text) AS SELECT $1, $2", "p", "(int, text) AS SELECT $1, $2"),
                prepare("prepare P as select 1", "p", "as select 1"),
                prepare("PREPARE p(int) AS SELECT $1", "p", "(int) AS SELECT $1"),
                prepare("PREPARE \"My Stmt\" AS SELECT 1", "My Stmt", "AS SELECT 1"),
                prepare("PREPARE \"a\"\"b\" AS SELECT 1", "a\"b", "AS SELECT 1"),
                prepare("PREPARE p\n\tAS\n\tSELECT ';'", "p", "AS\n\tSELECT ';'"),
                prepare("PREPARE p /* why */ AS SELECT 1", "p", "/* why */ AS SELECT 1"),
                prepare("PREPARE transaction AS SELECT 1", "transaction", "AS SELECT 1"),
                other("PREPARE TRANSACTION 'gid-1'"),
                other("PREPARE"),
                other("PREPARE p"),
                other("PREPARE p AS"),
                other("PREPARE p SELECT 1"),
                other("PREPARE \"\" AS SELECT 1"),
                other("PREPARE U&\"p\" AS SELECT 1"),
                other("PREPARE 'p' AS SELECT 1"),
                // EXECUTE
                execute("EXECUTE p", "p", ""),
                execute("EXECUTE p(1, 'a')", "p", "(1, 'a')"),
                execute("execute P (1)", "p", "(1)"),
                execute("EXECUTE \"P\"", "P", ""),
                other("EXECUTE"),
                other("EXECUTE p x"),
                other("EXPLAIN EXECUTE p"),
                other("CREATE TABLE t AS EXECUTE p"),
                other("EXECUTE 'p'"),
                // DEALLOCATE
                arguments("DEALLOCATE p", new Deallocate("DEALLOCATE p", "p")),
                arguments("DEALLOCATE PREPARE P", new Deallocate("DEALLOCATE PREPARE P", "p")),
                arguments("DEALLOCATE PREPARE \"P\"", new Deallocate("DEALLOCATE PREPARE \"P\"", "P")),
                arguments("deallocate prepare", new Deallocate("deallocate prepare", "prepare")),
                arguments("DEALLOCATE \"ALL\"", new Deallocate("DEALLOCATE \"ALL\"", "ALL")),
                arguments("deallocate all", new DeallocateAll("deallocate all")),
                arguments("DEALLOCATE PREPARE ALL", new DeallocateAll("DEALLOCATE PREPARE ALL")),
                other("DEALLOCATE"),
                other("DEALLOCATE p q"),
                other("DEALLOCATE ALL p"),
                // DISCARD
                arguments("DISCARD ALL", new DiscardAll("DISCARD ALL")),
                arguments("discard All", new DiscardAll("discard All")),
                other("DISCARD PLANS"),
                other("DISCARD SEQUENCES"),
                other("DISCARD TEMP"),
                other("DISCARD TEMPORARY"),
                other("DISCARD ALL now"),
                other("DISCARD"),
                // everything else
                other("SELECT 1"),
                other("UPDATE t SET a = 1"),
                other("(SELECT 1)"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("singleStatements")
    void classifiesOneStatement(String sql, Command expected) {
        assertThat(SqlCommands.analyze(sql)).containsExactly(expected);
        assertThat(SqlCommands.analyze("  \n" + sql + " ;\n")).containsExactly(expected);
        if (!(expected instanceof Other)) {
            assertThat(mayNeedAnalysis(sql)).isTrue();
            assertThat(mayNeedAnalysis("SELECT 1;" + sql)).isTrue();
        }
    }

    @Test
    void identifiersAreTruncatedLikePostgres() {
        String longName = "n".repeat(70);
        assertThat(SqlCommands.analyze("EXECUTE " + longName))
                .containsExactly(new Execute("EXECUTE " + longName, "n".repeat(63), ""));
        // 62 ASCII bytes then a two-byte character: cut before it rather than inside it
        String name = "a".repeat(62) + "é" + "b";
        assertThat(SqlCommands.analyze("DEALLOCATE \"" + name + "\""))
                .extracting(c -> ((Deallocate) c).name()).containsExactly("a".repeat(62));
        assertThat(SqlCommands.analyze("DEALLOCATE Ünïcödé"))
                .containsExactly(new Deallocate("DEALLOCATE Ünïcödé", "Ünïcödé")); // only ASCII is folded
    }

    // ---- analyze: statement boundaries ----

    static Stream<Arguments> lexerTraps() {
        return Stream.of(
                arguments("SELECT 'x; SET a=1'", List.of(new Other("SELECT 'x; SET a=1'"))),
                arguments("SELECT 'it''s; SET a=1'", List.of(new Other("SELECT 'it''s; SET a=1'"))),
                arguments("SELECT E'x\\'; SET a=1'", List.of(new Other("SELECT E'x\\'; SET a=1'"))),
                arguments("SELECT e'\\\\'; SET a = 1", List.of(new Other("SELECT e'\\\\'"), setCmd("SET a = 1", "a"))),
                // backslash is an ordinary character in a standard string
                arguments("SELECT 'a\\'; SET a = 1", List.of(new Other("SELECT 'a\\'"), setCmd("SET a = 1", "a"))),
                // xe'...' is the name xe then a standard string
                arguments("SELECT xe'\\'; SET a = 1", List.of(new Other("SELECT xe'\\'"), setCmd("SET a = 1", "a"))),
                arguments("SELECT U&'d\\0061t'; SET a = 1",
                        List.of(new Other("SELECT U&'d\\0061t'"), setCmd("SET a = 1", "a"))),
                arguments("SELECT $$; SET a=1$$", List.of(new Other("SELECT $$; SET a=1$$"))),
                arguments("SELECT $tag$ $$; SET a=1 $$ $tag$", List.of(new Other("SELECT $tag$ $$; SET a=1 $$ $tag$"))),
                arguments("SELECT $a$ $b$; SET c=1 $b$ $a$; SET d = 1",
                        List.of(new Other("SELECT $a$ $b$; SET c=1 $b$ $a$"), setCmd("SET d = 1", "d"))),
                arguments("SELECT $_1$ ; $_1$; SET d = 1",
                        List.of(new Other("SELECT $_1$ ; $_1$"), setCmd("SET d = 1", "d"))),
                arguments("SELECT $1; SET a = 1", List.of(new Other("SELECT $1"), setCmd("SET a = 1", "a"))),
                arguments("SELECT $1$x$; SET a = 1 $x$", List.of(new Other("SELECT $1$x$; SET a = 1 $x$"))),
                arguments("SELECT x$y$; SET a = 1", List.of(new Other("SELECT x$y$"), setCmd("SET a = 1", "a"))),
                arguments("SELECT 1 /* outer /* inner; SET a=1 */ still; */; SET b = 1",
                        List.of(new Other("SELECT 1"), setCmd("SET b = 1", "b"))),
                arguments("SELECT 1 /*/ ; */; SET b = 1", List.of(new Other("SELECT 1"), setCmd("SET b = 1", "b"))),
                arguments("SELECT \"a;b\"; SET a = 1", List.of(new Other("SELECT \"a;b\""), setCmd("SET a = 1", "a"))),
                arguments("SELECT \"x\"\"; SET a=1\"", List.of(new Other("SELECT \"x\"\"; SET a=1\""))),
                arguments("SELECT 1 -- ; SET a = 1\nSET b=1", List.of(new Other("SELECT 1 -- ; SET a = 1\nSET b=1"))),
                arguments("SELECT 1 -- ; SET a = 1\r; SET b=1", List.of(new Other("SELECT 1"), setCmd("SET b=1", "b"))),
                arguments("-- leading\n/* comments */ SET a = 1 -- trailing", List.of(setCmd("SET a = 1", "a"))),
                arguments("\r\n\tSET\r\n\ta\tTO\r\n1\r\n;", List.of(setCmd("SET\r\n\ta\tTO\r\n1", "a"))),
                // older servers read 1e'..' as 1 then an E'' string (newer ones reject it)
                arguments("SELECT 1e'\\''; SET a = 1; --'",
                        List.of(new Other("SELECT 1e'\\''"), setCmd("SET a = 1", "a"))),
                arguments("SELECT 2 - -1; SET a = 1", List.of(new Other("SELECT 2 - -1"), setCmd("SET a = 1", "a"))),
                arguments("SELECT 1;; ;", List.of(new Other("SELECT 1"))),
                arguments(";;", List.of()),
                arguments("", List.of()),
                arguments("  -- only a comment", List.of()),
                arguments("SET a = 1;", List.of(setCmd("SET a = 1", "a"))),
                // Postgres rejects the whole string when a literal or comment is left open
                arguments("SET a = 1; SELECT 'oops", List.of(new Other("SET a = 1"), new Other("SELECT 'oops"))),
                arguments("SET a = 1 /* open", List.of(new Other("SET a = 1"))),
                arguments("SET a = 1; /* open /* */", List.of(new Other("SET a = 1"))),
                arguments("SET a = $x$", List.of(new Other("SET a = $x$"))),
                arguments("SET a = E'\\", List.of(new Other("SET a = E'\\"))),
                arguments("SET \"a = 1", List.of(new Other("SET \"a = 1"))));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("lexerTraps")
    void splitsStatementsLikePostgres(String sql, List<Command> expected) {
        assertThat(SqlCommands.analyze(sql)).containsExactlyElementsOf(expected);
    }

    @Test
    void classifiesEachStatementOfAMultiStatementQuery() {
        assertThat(SqlCommands.analyze("SELECT 1; SET search_path = x; PREPARE p AS SELECT 1; EXECUTE p; DEALLOCATE p"))
                .containsExactly(
                        new Other("SELECT 1"),
                        new SetParameter("SET search_path = x", "search_path"),
                        new Prepare("PREPARE p AS SELECT 1", "p", "AS SELECT 1"),
                        new Execute("EXECUTE p", "p", ""),
                        new Deallocate("DEALLOCATE p", "p"));
        assertThat(SqlCommands.analyze("BEGIN;SET LOCAL a=1;RESET ALL;DISCARD ALL;DEALLOCATE ALL;COMMIT"))
                .extracting(c -> c.getClass().getSimpleName())
                .containsExactly("Other", "Other", "ResetAll", "DiscardAll", "DeallocateAll", "Other");
    }

    @Test
    void neverThrowsOnNullOrOddInput() {
        assertThat(SqlCommands.analyze(null)).isEmpty();
        assertThatCode(() -> SqlCommands.analyze("SET \uD800 = 1; \u0000; \"\uDFFF")).doesNotThrowAnyException();
    }

    // ---- mayNeedAnalysis ----

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "SET a = 1", "set a = 1", "RESET ALL", "reset x", "PREPARE p AS SELECT 1", "Prepare p AS SELECT 1",
            "EXECUTE p", "execute p(1)", "DEALLOCATE p", "DeAllocate ALL", "DISCARD ALL", "discard plans",
            "  \t\r\nSET a = 1", "-- comment\nSET a = 1", "/* c /* nested */ */SET a = 1", "SET", "set;",
            "SELECT 1; SET a = 1", "SELECT 1;SET a = 1", "SELECT 1;\n-- why\nRESET a", "BEGIN; PREPARE p AS SELECT 1",
            "SELECT 'x'; EXECUTE p", "SELECT $$;$$; DISCARD ALL", "SELECT 1; /* */ DEALLOCATE p", ";SET a = 1",
            "SELECT ';' ; SET a = 1", "SELECT 1; SET LOCAL a = 1"})
    void mayNeedAnalysisWhenAStatementStartsWithAKeyword(String sql) {
        assertThat(mayNeedAnalysis(sql)).isTrue();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "SELECT abalance FROM pgbench_accounts WHERE aid = 1", "UPDATE t SET a = 1",
            "INSERT INTO t VALUES ('SET x')",
            "-- SET\nSELECT 1", "/* SET a = 1; */ SELECT 1", "SELECT 1; SETTINGS", "SELECT 1; settings = 1",
            "SELECT 1; SET$ = 1", "SELECT 1; SET_x", "SELECT 'a; SET b = 1'", "SELECT E'\\'; SET b = 1'",
            "SELECT \"; SET b = 1\"", "SELECT $x$ ; SET b = 1 $x$", "SELECT 1 -- ; SET b = 1",
            "UPDATE t SET a = 1; COMMIT",
            "EXPLAIN EXECUTE p", "", "   ", ";", "SELECT 1; /* open ; SET a = 1",
            "SELECT abalance FROM pgbench_accounts WHERE aid = 1;", "SELECT 1; -- done", "SELECT 1;\n\t /* c */ "})
    void noAnalysisWhenNoStatementStartsWithAKeyword(String sql) {
        assertThat(mayNeedAnalysis(sql)).isFalse();
    }

    @Test
    void mayNeedAnalysisLooksOnlyAtTheGivenRange() {
        ByteBuf buf = Unpooled.copiedBuffer("SET a=1;SELECT 1;SET b=1", StandardCharsets.UTF_8);
        try {
            assertThat(SqlCommands.mayNeedAnalysis(buf, 0, 8)).isTrue();
            assertThat(SqlCommands.mayNeedAnalysis(buf, 8, 9)).isFalse(); // "SELECT 1;"
            assertThat(SqlCommands.mayNeedAnalysis(buf, 9, 8)).isFalse(); // "ELECT 1;"
            assertThat(SqlCommands.mayNeedAnalysis(buf, 8, 16)).isTrue();
            assertThat(SqlCommands.mayNeedAnalysis(buf, 1, 1)).isFalse();
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    /** A direct buffer is copied out without allocating only when Netty may use Unsafe (the build's test JVM options). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mayNeedAnalysisDoesNotAllocate(boolean direct) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteBuf single = buffer("SELECT abalance FROM pgbench_accounts WHERE aid = 1", direct);
        ByteBuf multi = buffer("BEGIN; SELECT $$;$$, 'a;b' /* ; */; DISCARD ALL", direct);
        int hits = 0;
        for (int n = 0; n < 20_000; n++) { // warm up
            hits += check(single, multi);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int n = 0; n < 100_000; n++) {
            hits += check(single, multi);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        single.release();
        multi.release();
        assertThat(hits).isEqualTo(120_000);
        assertThat(allocated).as("bytes allocated by 200,000 calls").isLessThan(16_000);
    }

    /** Buffers the leak detector does not wrap: it records every access to those it tracks. */
    private static ByteBuf buffer(String sql, boolean direct) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        if (!direct) {
            return Unpooled.wrappedBuffer(bytes);
        }
        return new UnpooledByteBufAllocator(true, true).directBuffer(bytes.length).writeBytes(bytes);
    }

    @Test
    void mayNeedAnalysisScansStatementsLongerThanItsScratchArray() {
        String filler = "x".repeat(SqlCommands.SCRATCH_BYTES);
        assertThat(mayNeedAnalysis("SELECT '" + filler + "'; SET a = 1")).isTrue();
        assertThat(mayNeedAnalysis("SELECT '" + filler + ";SET a = 1'")).isFalse();
        assertThat(mayNeedAnalysis("SELECT 1 /*" + filler + "*/; SELECT 2")).isFalse();
    }

    @Test
    void mayNeedAnalysisOfNothingIsFalse() {
        ByteBuf buf = Unpooled.directBuffer().writeBytes("SET a = 1".getBytes(StandardCharsets.UTF_8));
        try {
            assertThat(SqlCommands.mayNeedAnalysis(buf, 0, 0)).isFalse();
            assertThat(SqlCommands.mayNeedAnalysis(buf, 0, -1)).isFalse();
        } finally {
            buf.release();
        }
    }

    private static int check(ByteBuf single, ByteBuf multi) {
        boolean a = SqlCommands.mayNeedAnalysis(single, 0, single.writerIndex());
        boolean b = SqlCommands.mayNeedAnalysis(multi, 0, multi.writerIndex());
        return (a ? 2 : 0) + (b ? 1 : 0);
    }

    // ---- the two entry points agree ----

    /** Whole commands, their pieces, and the characters that open or close literals and comments. */
    private static final String[] FRAGMENTS = {
            "SET a = 1", "SET LOCAL a TO 1", "SET TIME ZONE 'UTC'", "RESET ALL", "RESET a", "PREPARE p AS SELECT 1",
            "EXECUTE p", "EXECUTE p(1)", "DEALLOCATE p", "DEALLOCATE ALL", "DISCARD ALL", "SELECT 1",
            "UPDATE t SET a = 1",
            "SET ", "set", "RESET ", "PREPARE ", "EXECUTE ", "DISCARD ", "ALL", "SESSION ", "p", " AS ", "TO ", "= ",
            "x", "e", "E", "U&", ";", "; ", ";\n", "'", "''", "\\", "\"", "$", "$$", "$a$", "$1", "--", "/*", "*/",
            "/", "*", "-", "\n", "\r", " ", "\t", "(", ")", ".", ",", "é", "0"};

    @Test
    @Timeout(60)
    void mayNeedAnalysisHasNoFalseNegatives() {
        Random random = new Random(20240611L);
        int nonOther = 0;
        for (int n = 0; n < 5000; n++) {
            StringBuilder sql = new StringBuilder();
            int parts = 1 + random.nextInt(12);
            for (int k = 0; k < parts; k++) {
                sql.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
            }
            String query = sql.toString();
            List<Command> commands = SqlCommands.analyze(query);
            boolean interesting = commands.stream().anyMatch(c -> !(c instanceof Other));
            nonOther += interesting ? 1 : 0;
            if (interesting) {
                assertThat(mayNeedAnalysis(query)).as("mayNeedAnalysis(%s) with %s", query, commands).isTrue();
            }
            for (Command command : commands) {
                assertThat(command.text()).as(query).isNotBlank();
                assertThat(query).contains(command.text());
            }
        }
        assertThat(nonOther).as("the alphabet must produce commands to check").isGreaterThan(200);
    }

    /** Runs the check on a heap and on a direct buffer, each with bytes around the range. */
    private static boolean mayNeedAnalysis(String sql) {
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf heap = Unpooled.buffer().writeBytes("SET x=1;".getBytes(StandardCharsets.UTF_8));
        ByteBuf direct = Unpooled.directBuffer().writeBytes("'$$/*".getBytes(StandardCharsets.UTF_8));
        try {
            int heapFrom = heap.writerIndex();
            int directFrom = direct.writerIndex();
            heap.writeBytes(bytes).writeBytes(";SET y=1".getBytes(StandardCharsets.UTF_8));
            direct.writeBytes(bytes).writeBytes("';SET y=1".getBytes(StandardCharsets.UTF_8));
            boolean result = SqlCommands.mayNeedAnalysis(heap, heapFrom, bytes.length);
            assertThat(SqlCommands.mayNeedAnalysis(direct, directFrom, bytes.length)).as(sql).isEqualTo(result);
            return result;
        } finally {
            heap.release();
            direct.release();
        }
    }

    private static Arguments set(String sql, String name) {
        return arguments(sql, setCmd(sql, name));
    }

    private static SetParameter setCmd(String sql, String name) {
        return new SetParameter(sql, name);
    }

    private static Arguments prepare(String sql, String name, String rest) {
        return arguments(sql, new Prepare(sql, name, rest));
    }

    private static Arguments execute(String sql, String name, String rest) {
        return arguments(sql, new Execute(sql, name, rest));
    }

    private static Arguments other(String sql) {
        return arguments(sql, new Other(sql));
    }
}
