package dev.pgmux.proxy.transaction;

import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.proxy.prepared.StatementCache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static dev.pgmux.proxy.transaction.Messages.bind;
import static dev.pgmux.proxy.transaction.Messages.closeStatement;
import static dev.pgmux.proxy.transaction.Messages.describeStatement;
import static dev.pgmux.proxy.transaction.Messages.execute;
import static dev.pgmux.proxy.transaction.Messages.parse;
import static dev.pgmux.proxy.transaction.Messages.query;
import static dev.pgmux.proxy.transaction.Messages.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link StatementRewriter} and {@link ResponseTracker} between a client and {@link ScriptedServer}s that
 * answer as Postgres does: each test lists, in order, exactly what each server was sent and what the client
 * got back. The client gets what a direct Postgres session would send it, wherever its statements are.
 */
class StatementRewriterTest {
    private static final String FAILED = "25P02 " + ScriptedServer.IN_FAILED_TRANSACTION;
    private static final String CACHED_PLAN_CHANGED = "{S=ERROR, V=ERROR, C=0A000, M=" + ScriptedServer.CACHED_PLAN_CHANGED
            + ", F=plancache.c, R=RevalidateCachedQuery}";

    private final StatementCache cache = new StatementCache(SessionChanges::mayChange);
    private final ScriptedServer s1 = new ScriptedServer();
    private final ScriptedServer s2 = new ScriptedServer();
    private final List<AttachedClient> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(AttachedClient::finish);
        s1.finish();
        s2.finish();
    }

    // --- rewrite ---

    @Test
    void aNewNameIsPreparedUnderItsSharedNameAndTheServerAnswersTheParse() {
        AttachedClient client = client().attach(s1);

        client.run(parse("s1", "SELECT $1", 23), bind("", "s1", "42"), execute(""), sync());

        assertThat(s1.received()).containsExactly(
                "Parse \"pgmux_1\" SELECT $1 [23]", "Bind \"\" \"pgmux_1\" [42]", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ParseComplete", "BindComplete", "DataRow [42]", "CommandComplete SELECT 1", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_1");
        finish(client);
    }

    @Test
    void aParseOfAStatementTheServerHoldsIsAnsweredByPgmuxAndNothingMoreIsSent() {
        AttachedClient first = client().attach(s1);
        first.run(parse("a", "SELECT $1", 23), sync());
        s1.received();
        first.received();

        // Another client, another name, the same statement: shared.
        AttachedClient second = client().attach(s1);
        second.run(parse("s1", "SELECT $1", 23), bind("", "s1", "7"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" [7]", "Execute \"\"", "Sync");
        assertThat(second.received()).containsExactly(
                "ParseComplete", "BindComplete", "DataRow [7]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(first, second);
    }

    @Test
    void onAServerThatLacksTheStatementAParseGoesBeforeTheBindAndItsAnswerIsSwallowed() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT $1", 23), sync());
        s1.received();
        client.received();

        client.attach(s2).run(bind("", "s1", "7"), execute(""), sync());

        assertThat(s2.received()).containsExactly(
                "Parse \"pgmux_1\" SELECT $1 [23]", "Bind \"\" \"pgmux_1\" [7]", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "BindComplete", "DataRow [7]", "CommandComplete SELECT 1", "ReadyForQuery I");

        // Back where it was prepared: nothing to prepare.
        client.attach(s1).run(bind("", "s1", "8"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" [8]", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "BindComplete", "DataRow [8]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void describeOfANamedStatementIsRenamedAndPreparedWhereNeeded() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT $1", 23), sync());
        s1.received();
        client.received();

        client.attach(s2).run(describeStatement("s1"), sync());

        assertThat(s2.received()).containsExactly("Parse \"pgmux_1\" SELECT $1 [23]", "Describe S \"pgmux_1\"", "Sync");
        assertThat(client.received()).containsExactly("ParameterDescription [23]", "RowDescription [?column?]", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void aNameInUseGets42P05AndTheServerSkipsToSyncAndFailsTheTransactionAsPostgresWould() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        client.run(query("BEGIN"));
        s1.received();
        client.received();

        client.run(parse("s1", "SELECT 2"), bind("", "s1"), execute(""), sync());

        // The server checks the query under a throwaway name, then fails where the client's Parse would have.
        assertThat(s1.received()).containsExactly("Parse \"pgmux/check\" SELECT 2", "Close S \"pgmux/check\"",
                "Describe S \"pgmux/no such statement\"", "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 42P05 prepared statement \"s1\" already exists", "ReadyForQuery E");

        client.run(query("SELECT 3"));
        assertThat(client.received()).containsExactly("ErrorResponse " + FAILED, "ReadyForQuery E");
        client.run(query("ROLLBACK"));
        assertThat(client.received()).containsExactly("CommandComplete ROLLBACK", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_1");
        s1.received();

        // s1 still means its first statement.
        client.run(bind("", "s1"), execute(""), sync());
        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void aSyntaxErrorWinsOverANameInUseAsInPostgres() {
        s1.rejects("SELEC 2", "42601", "syntax error at or near \"SELEC\"");
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        s1.received();
        client.received();

        client.run(parse("s1", "SELEC 2"), sync());

        assertThat(s1.received()).containsExactly("Parse \"pgmux/check\" SELEC 2", "Close S \"pgmux/check\"",
                "Describe S \"pgmux/no such statement\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 42601 syntax error at or near \"SELEC\"", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void aFailedParseRegistersNothingAndTheNameCanBeUsedAfterTheRollback() {
        s1.rejects("SELEC 1", "42601", "syntax error at or near \"SELEC\"");
        AttachedClient client = client().attach(s1);
        client.run(query("BEGIN"));
        s1.received();
        client.received();

        client.run(parse("s1", "SELEC 1"), sync());

        assertThat(s1.received()).containsExactly("Parse \"pgmux_1\" SELEC 1", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 42601 syntax error at or near \"SELEC\"", "ReadyForQuery E");
        assertThat(client.statements().contains("s1")).isFalse();
        assertThat(cache.definitions()).allSatisfy(def -> assertThat(def.references()).isZero());

        client.run(query("ROLLBACK"));
        client.received();
        s1.received();
        client.run(parse("s1", "SELECT 1"), bind("", "s1"), execute(""), sync());

        assertThat(s1.received()).containsExactly(
                "Parse \"pgmux_2\" SELECT 1", "Bind \"\" \"pgmux_2\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ParseComplete", "BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_2");
        finish(client);
    }

    @Test
    void aParseInAFailedTransactionIsRefusedEvenWhereTheServerHoldsTheStatement() {
        AttachedClient first = client().attach(s1);
        first.run(parse("a", "SELECT 1"), sync());
        first.received();
        s1.failsWhenRun("SELECT 1/0", "22012", "division by zero");
        AttachedClient client = client().attach(s1);
        client.run(query("BEGIN"), query("SELECT 1/0"));
        s1.received();
        client.received();

        client.run(parse("s1", "SELECT 1"), sync());

        assertThat(s1.received()).containsExactly("Parse \"pgmux/check\" SELECT 1", "Close S \"pgmux/check\"", "Sync");
        assertThat(client.received()).containsExactly("ErrorResponse " + FAILED, "ReadyForQuery E");
        assertThat(client.statements().contains("s1")).isFalse();
        finish(first, client);
    }

    @Test
    void closeIsAnsweredByPgmuxAndFreesTheNameWhileTheServerKeepsTheStatement() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        s1.received();
        client.received();

        client.run(closeStatement("s1"), sync());

        assertThat(s1.received()).containsExactly("Sync");
        assertThat(client.received()).containsExactly("CloseComplete", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_1");

        client.run(parse("s1", "SELECT 2"), sync());
        assertThat(s1.received()).containsExactly("Parse \"pgmux_2\" SELECT 2", "Sync");
        assertThat(client.received()).containsExactly("ParseComplete", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void aCloseTheServerWouldHaveSkippedAfterAnErrorKeepsTheName() {
        s1.failsWhenRun("SELECT 1/0", "22012", "division by zero");
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        s1.received();
        client.received();

        client.run(parse("", "SELECT 1/0"), bind("", ""), execute(""), closeStatement("s1"), sync());

        assertThat(s1.received()).containsExactly("Parse \"\" SELECT 1/0", "Bind \"\" \"\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ParseComplete", "BindComplete", "ErrorResponse 22012 division by zero", "ReadyForQuery I");

        client.run(bind("", "s1"), execute(""), sync());
        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void anUnknownNameGetsTheServersOwnError() {
        AttachedClient client = client().attach(s1);

        client.run(bind("", "nope"), execute(""), sync());
        client.run(describeStatement("nope"), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"nope\" []", "Execute \"\"", "Sync", "Describe S \"nope\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 26000 prepared statement \"nope\" does not exist", "ReadyForQuery I",
                "ErrorResponse 26000 prepared statement \"nope\" does not exist", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void anErrorThatQuotesTheServersNameQuotesTheClientsName() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT $1", 23), sync());
        s1.received();
        client.received();

        client.run(bind("", "s1"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 08P01 bind message supplies 0 parameters, but prepared statement \"s1\" requires 1",
                "ReadyForQuery I");
        finish(client);
    }

    @Test
    void aStatementThatNoLongerParsesWhereItIsPreparedFailsItsBindWithTheParsesError() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT a FROM t"), sync());
        s1.received();
        client.received();
        s2.rejects("SELECT a FROM t", "42P01", "relation \"t\" does not exist");

        client.attach(s2).run(bind("", "s1"), execute(""), sync());

        assertThat(s2.received()).containsExactly(
                "Parse \"pgmux_1\" SELECT a FROM t", "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("ErrorResponse 42P01 relation \"t\" does not exist", "ReadyForQuery I");

        // It was not prepared there: the next use tries again.
        client.run(bind("", "s1"), execute(""), sync());
        assertThat(s2.received()).startsWith("Parse \"pgmux_1\" SELECT a FROM t");
        client.received();
        finish(client);
    }

    // --- failed transactions ---

    @ParameterizedTest
    @ValueSource(strings = {"ROLLBACK", "COMMIT"})
    void aNamedStatementEndingAFailedTransactionIsPreparedOnAServerThatLacksIt(String sql) {
        s2.failsWhenRun("SELECT 1/0", "22012", "division by zero");
        AttachedClient client = client().attach(s1);
        client.run(parse("end", sql), sync());
        client.attach(s2).run(query("BEGIN"), query("SELECT 1/0"));
        assertThat(client.received()).endsWith("ErrorResponse 22012 division by zero", "ReadyForQuery E");
        s1.received();
        s2.received();

        client.run(bind("", "end"), execute(""), sync());

        assertThat(s2.received()).containsExactly(
                "Parse \"pgmux_1\" " + sql, "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        // COMMIT of a failed transaction rolls it back, and says so.
        assertThat(client.received()).containsExactly("BindComplete", "CommandComplete ROLLBACK", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void anyOtherNamedStatementInAFailedTransactionOnAServerThatLacksItGets25P02() {
        s2.failsWhenRun("SELECT 1/0", "22012", "division by zero");
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        client.attach(s2).run(query("BEGIN"), query("SELECT 1/0"));
        s1.received();
        s2.received();
        client.received();

        client.run(bind("", "s1"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Describe S \"pgmux/no such statement\"", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("ErrorResponse " + FAILED, "ReadyForQuery E");

        // Postgres checks the parameter count first, and refuses to describe a statement that returns rows.
        client.run(bind("", "s1", "1"), execute(""), sync());
        client.run(describeStatement("s1"), sync());
        assertThat(client.received()).containsExactly(
                "ErrorResponse 08P01 bind message supplies 1 parameters, but prepared statement \"s1\" requires 0",
                "ReadyForQuery E", "ErrorResponse " + FAILED, "ReadyForQuery E");
        s2.received();

        client.run(query("ROLLBACK"));
        assertThat(s2.received()).containsExactly("Query ROLLBACK");
        assertThat(client.received()).containsExactly("CommandComplete ROLLBACK", "ReadyForQuery I");
        assertThat(s2.statementNames()).isEmpty();
        finish(client);
    }

    // --- result types changed by DDL ---

    @Test
    void aResultTypeChangeReportedByOneServerMakesTheStatementStaleOnEveryServer() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), bind("", "s1"), execute(""), sync());
        client.attach(s2).run(bind("", "s1"), execute(""), sync());
        s1.received();
        s2.received();
        client.received();
        // DDL: every session's plan for the statement is outdated.
        s1.resultTypeChanged("SELECT 1");
        s2.resultTypeChanged("SELECT 1");

        client.attach(s1).run(bind("", "s1"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("ErrorResponse " + CACHED_PLAN_CHANGED, "ReadyForQuery I");

        // The other server's copy is closed and prepared again before it is used.
        client.attach(s2).run(bind("", "s1"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Close S \"pgmux_1\"", "Parse \"pgmux_1\" SELECT 1",
                "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");

        client.attach(s1).run(bind("", "s1"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Close S \"pgmux_1\"", "Parse \"pgmux_1\" SELECT 1",
                "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void anotherClientThatPreparedTheStatementBeforeTheChangeMeetsItOnceAsItsOwnSessionWould() {
        AttachedClient first = client().attach(s1);
        first.run(parse("s1", "SELECT 1"), bind("", "s1"), execute(""), sync());
        AttachedClient second = client().attach(s2);
        second.run(parse("q", "SELECT 1"), bind("", "q"), execute(""), sync());
        s1.resultTypeChanged("SELECT 1");
        s2.resultTypeChanged("SELECT 1");
        first.run(bind("", "s1"), execute(""), sync());
        assertThat(first.received()).contains("ErrorResponse " + CACHED_PLAN_CHANGED);
        s1.received();
        s2.received();
        second.received();

        second.run(bind("", "q"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Describe S \"pgmux/no such statement\"", "Execute \"\"", "Sync");
        assertThat(second.received()).containsExactly("ErrorResponse " + CACHED_PLAN_CHANGED, "ReadyForQuery I");

        second.run(bind("", "q"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Close S \"pgmux_1\"", "Parse \"pgmux_1\" SELECT 1",
                "Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(second.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(first, second);
    }

    // --- the server's bound ---

    @Test
    void atTheServersBoundTheLeastRecentlyUsedStatementIsClosedToMakeRoom() {
        AttachedClient client = client(PreparedStatementMode.REWRITE, 2).attach(s1);
        client.run(parse("a", "SELECT 1"), parse("b", "SELECT 2"), sync());
        client.run(bind("", "a"), execute(""), sync());
        s1.received();
        client.received();

        client.run(parse("c", "SELECT 3"), sync());

        assertThat(s1.received()).containsExactly("Close S \"pgmux_2\"", "Parse \"pgmux_3\" SELECT 3", "Sync");
        assertThat(client.received()).containsExactly("ParseComplete", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_1", "pgmux_3");

        client.run(bind("", "b"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Close S \"pgmux_1\"", "Parse \"pgmux_2\" SELECT 2",
                "Bind \"\" \"pgmux_2\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [2]", "CommandComplete SELECT 1", "ReadyForQuery I");
        assertThat(s1.statementNames()).containsExactly("pgmux_2", "pgmux_3");
        finish(client);
    }

    // --- SQL-level PREPARE / EXECUTE / DEALLOCATE ---

    @Test
    void sqlPrepareExecuteAndDeallocateUseTheSharedName() {
        AttachedClient client = client().attach(s1);

        client.run(query("PREPARE s AS SELECT 1"));

        assertThat(s1.received()).containsExactly("Query PREPARE pgmux_1 AS SELECT 1");
        assertThat(client.received()).containsExactly("CommandComplete PREPARE", "ReadyForQuery I");

        client.attach(s2).run(query("EXECUTE s"));

        assertThat(s2.received()).containsExactly("Query PREPARE pgmux_1 AS SELECT 1", "Query EXECUTE pgmux_1");
        assertThat(client.received()).containsExactly(
                "RowDescription [?column?]", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");

        client.run(query("DEALLOCATE s"));

        assertThat(s2.received()).containsExactly("Query ");
        assertThat(client.received()).containsExactly("CommandComplete DEALLOCATE", "ReadyForQuery I");
        assertThat(client.statements().size()).isZero();
        finish(client);
    }

    @Test
    void sqlExecuteOfAProtocolStatementThatNoLongerParsesWhereItRunsGetsOneError() {
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT a FROM t"), sync());
        client.received();
        s1.received();
        s2.rejects("SELECT a FROM t", "42P01", "relation \"t\" does not exist");

        client.attach(s2).run(query("EXECUTE s1"));
        s2.received();

        // As EXECUTE answers on a direct connection when its statement no longer parses: one error.
        assertThat(client.received()).containsExactly("ErrorResponse 42P01 relation \"t\" does not exist", "ReadyForQuery I");
        finish(client);
    }

    @Test
    void sqlExecuteOfAnSqlPreparedStatementThatNoLongerPreparesWhereItRunsGetsTheErrorPostgresGives() {
        AttachedClient client = client().attach(s1);
        client.run(query("PREPARE s AS SELECT a FROM t"));
        client.received();
        s1.received();
        // The table changed since: preparing the statement again fails, as its revalidation would on a direct connection.
        s2.rejects("SELECT a FROM t", "42P01", "relation \"t\" does not exist");

        client.attach(s2).run(query("EXECUTE s"));
        assertThat(client.received()).containsExactly("ErrorResponse 42P01 relation \"t\" does not exist", "ReadyForQuery I");

        client.run(query("BEGIN"), query("EXECUTE s"));
        assertThat(client.received()).containsExactly("CommandComplete BEGIN", "ReadyForQuery T",
                "ErrorResponse 42P01 relation \"t\" does not exist", "ReadyForQuery E");
        s2.received();
        finish(client);
    }

    @Test
    void aBindOfAnSqlPreparedStatementThatNoLongerPreparesWhereItRunsGetsTheErrorPostgresGives() {
        AttachedClient client = client().attach(s1);
        client.run(query("PREPARE s AS SELECT a FROM t"));
        client.received();
        s1.received();
        s2.rejects("SELECT a FROM t", "42P01", "relation \"t\" does not exist");

        client.attach(s2).run(bind("", "s"), execute(""), sync());

        assertThat(client.received()).containsExactly("ErrorResponse 42P01 relation \"t\" does not exist", "ReadyForQuery I");
        s2.received();
        finish(client);
    }

    // --- a simple Query sent after an error, before the Sync: Postgres discards it unseen ---

    @Test
    void anSqlExecuteTheServerDiscardsAfterAnErrorIsNotAnswered() {
        s2.rejects("SELEC", "42601", "syntax error at or near \"SELEC\"");
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        client.received();
        s1.received();

        client.attach(s2).run(parse("", "SELEC"), query("EXECUTE s1"), sync());

        assertThat(client.received()).containsExactly("ErrorResponse 42601 syntax error at or near \"SELEC\"", "ReadyForQuery I");
        s2.received();
        finish(client);
    }

    @Test
    void anSqlDeallocateTheServerDiscardsAfterAnErrorLeavesTheStatement() {
        s1.rejects("SELEC", "42601", "syntax error at or near \"SELEC\"");
        AttachedClient client = client().attach(s1);
        client.run(parse("s1", "SELECT 1"), sync());
        client.received();
        s1.received();

        client.run(parse("", "SELEC"), query("DEALLOCATE s1"), sync());
        assertThat(client.received()).containsExactly("ErrorResponse 42601 syntax error at or near \"SELEC\"", "ReadyForQuery I");
        s1.received();

        client.run(bind("", "s1"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Bind \"\" \"pgmux_1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly("BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "ReadyForQuery I");
        finish(client);
    }

    // --- strip and passthrough ---

    @Test
    void stripModeParsesTheUnnamedStatementBeforeEachUse() {
        AttachedClient client = client(PreparedStatementMode.STRIP, 100).attach(s1);

        client.run(parse("s1", "SELECT $1", 23), bind("", "s1", "5"), execute(""), sync());

        assertThat(s1.received()).containsExactly("Parse \"\" SELECT $1 [23]", "Parse \"\" SELECT $1 [23]",
                "Bind \"\" \"\" [5]", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ParseComplete", "BindComplete", "DataRow [5]", "CommandComplete SELECT 1", "ReadyForQuery I");

        client.attach(s2).run(bind("", "s1", "6"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Parse \"\" SELECT $1 [23]", "Bind \"\" \"\" [6]", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "BindComplete", "DataRow [6]", "CommandComplete SELECT 1", "ReadyForQuery I");

        client.run(closeStatement("s1"), sync());

        assertThat(s2.received()).containsExactly("Sync");
        assertThat(client.received()).containsExactly("CloseComplete", "ReadyForQuery I");
        assertThat(s1.statementNames()).isEmpty();
        assertThat(s2.statementNames()).isEmpty();
        finish(client);
    }

    @Test
    void passthroughForwardsNamedStatementsUnchanged() {
        AttachedClient client = client(PreparedStatementMode.PASSTHROUGH, 100).attach(s1);

        client.run(parse("s1", "SELECT 1"), bind("", "s1"), execute(""), closeStatement("s1"), sync());

        assertThat(s1.received()).containsExactly(
                "Parse \"s1\" SELECT 1", "Bind \"\" \"s1\" []", "Execute \"\"", "Close S \"s1\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ParseComplete", "BindComplete", "DataRow [1]", "CommandComplete SELECT 1", "CloseComplete", "ReadyForQuery I");

        client.run(parse("s1", "SELECT 1"), sync());
        client.received();
        s1.received();
        client.attach(s2).run(bind("", "s1"), execute(""), sync());

        assertThat(s2.received()).containsExactly("Bind \"\" \"s1\" []", "Execute \"\"", "Sync");
        assertThat(client.received()).containsExactly(
                "ErrorResponse 26000 prepared statement \"s1\" does not exist", "ReadyForQuery I");
        finish(client);
    }

    private AttachedClient client() {
        return client(PreparedStatementMode.REWRITE, 100);
    }

    private AttachedClient client(PreparedStatementMode mode, int maxServerStatements) {
        AttachedClient client = new AttachedClient(mode, cache, maxServerStatements);
        clients.add(client);
        return client;
    }

    /** Nothing left unread or owed on either side. */
    private void finish(AttachedClient... done) {
        for (AttachedClient client : done) {
            assertThat(client.received()).isEmpty();
            assertFalse(client.finish());
        }
        assertThat(s1.received()).isEmpty();
        assertThat(s2.received()).isEmpty();
        assertFalse(s1.finish());
        assertFalse(s2.finish());
    }
}
