package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.WireClient;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static dev.pgmux.proxy.model.Op.bind;
import static dev.pgmux.proxy.model.Op.closeStatement;
import static dev.pgmux.proxy.model.Op.describePortal;
import static dev.pgmux.proxy.model.Op.describeStatement;
import static dev.pgmux.proxy.model.Op.execute;
import static dev.pgmux.proxy.model.Op.flush;
import static dev.pgmux.proxy.model.Op.parse;
import static dev.pgmux.proxy.model.Op.query;
import static dev.pgmux.proxy.model.Op.sync;
import static dev.pgmux.proxy.model.Program.on;
import static dev.pgmux.proxy.model.Program.onOtherServer;
import static dev.pgmux.proxy.model.ProgramGenerator.DIV_ZERO;
import static dev.pgmux.proxy.model.ProgramGenerator.ECHO;
import static dev.pgmux.proxy.model.ProgramGenerator.INVALID;
import static dev.pgmux.proxy.model.ProgramGenerator.PLUS_ONE;
import static dev.pgmux.proxy.model.ProgramGenerator.SELECT_1;
import static dev.pgmux.proxy.model.ProgramGenerator.SELECT_X;
import static dev.pgmux.proxy.model.ProgramGenerator.SERIES;

/**
 * Fixed programs, each run on a direct Postgres connection and through pgmux with deterministic placement
 * ("other server" batches run on the other of pgmux's two servers): the classic traps of statement
 * rewriting in transaction mode, and the smallest programs the random model test found pgmux answering
 * differently (each named after what a direct server does).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResponseOrderRegressionTest {
    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(ModelSupport.twoServers());

    private static void check(Program program) throws IOException {
        ModelSupport.assertSameAsDirect(pgmux.get(), program);
    }

    // --- the classic traps ---

    @Test
    void statementParsedOnOneServerIsBoundOnAnother() throws IOException {
        check(Program.of(
                on(parse("s1", PLUS_ONE), sync()),
                onOtherServer(bind("", "s1", "41"), execute(), sync()),
                onOtherServer(bind("", "s1", "1"), describePortal(""), execute(), sync())));
    }

    @Test
    void failedParseRegistersNothing() throws IOException {
        check(Program.of(
                on(parse("s1", INVALID), sync()),
                on(parse("s1", SELECT_1), sync()),
                onOtherServer(bind("s1"), execute(), sync())));
    }

    @Test
    void failedParseInTransactionRegistersNothing() throws IOException {
        check(Program.of(
                on(query("BEGIN")),
                on(parse("s1", INVALID), sync()),
                on(query("ROLLBACK")),
                onOtherServer(parse("s1", SELECT_1), bind("s1"), execute(), sync())));
    }

    @Test
    void duplicateNameInOneBatchSkipsToSync() throws IOException {
        check(Program.of(
                on(parse("s1", SELECT_1), parse("s1", SELECT_X), bind("s1"), execute(), sync()),
                on(bind("s1"), execute(), sync()),
                onOtherServer(bind("s1"), execute(), sync())));
    }

    @Test
    void parseSkippedAfterBindErrorLeavesNoStatement() throws IOException {
        check(Program.of(
                on(parse("s1", PLUS_ONE), sync()),
                on(bind("", "s1", "abc"), parse("s2", SELECT_1), describeStatement("s2"), sync()),
                on(describeStatement("s2"), sync()),
                onOtherServer(describeStatement("s2"), sync())));
    }

    /** The same, when the server already holds s2's query (under another name): ParseComplete is pgmux's. */
    @Test
    void synthesizedParseCompleteSkippedAfterBindError() throws IOException {
        check(Program.of(
                on(parse("s1", PLUS_ONE), parse("s3", SELECT_1), sync()),
                on(bind("", "s1", "abc"), parse("s2", SELECT_1), describeStatement("s2"), sync()),
                on(describeStatement("s2"), sync()),
                on(bind("s2"), execute(), sync())));
    }

    /** pgjdbc's getMetaData(): Describe of a statement parsed on another server. */
    @Test
    void describeOfStatementParsedOnAnotherServer() throws IOException {
        check(Program.of(
                on(parse("s1", PLUS_ONE), sync()),
                onOtherServer(describeStatement("s1"), sync()),
                onOtherServer(describeStatement("s1"), bind("", "s1", "5"), execute(), sync())));
    }

    @Test
    void closedStatementNoLongerExists() throws IOException {
        check(Program.of(
                on(parse("s1", SELECT_1), sync()),
                on(closeStatement("s1"), sync()),
                on(bind("s1"), execute(), sync()),
                on(parse("s2", SELECT_X), sync()),
                onOtherServer(closeStatement("s2"), bind("s2"), execute(), sync()),
                on(parse("s1", SELECT_X), bind("s1"), execute(), sync())));
    }

    @Test
    void namedPortalSuspendedInsideTransaction() throws IOException {
        check(Program.of(
                on(query("BEGIN")),
                on(parse("s1", SELECT_1), bind("p1", "s1"), execute("p1", 1), sync()),
                onOtherServer(execute("p1", 1), sync()),
                on(parse("s2", SERIES), bind("p2", "s2"), flush(), execute("p2", 1), sync()),
                on(execute("p2", 1), execute("p2", 0), execute("p2", 1), sync()),
                on(query("COMMIT")),
                onOtherServer(execute("p1", 1), sync())));
    }

    // --- found by the model test: what a direct server does and pgmux did not ---

    /** Postgres parses before it looks at the name: a syntax error wins over "already exists". */
    @Test
    void syntaxErrorWinsOverDuplicateName() throws IOException {
        check(Program.of(
                on(parse("s2", SELECT_1), sync()),
                on(parse("s2", INVALID), sync())));
    }

    /** In a failed transaction every Parse gets 25P02, a duplicate name too. */
    @Test
    void duplicateNameInFailedTransactionIsInFailedTransaction() throws IOException {
        check(Program.of(
                on(parse("s2", SERIES), sync()),
                on(query("BEGIN")),
                on(execute(), sync()),
                on(parse("s2", SERIES), sync())));
    }

    /**
     * In a failed transaction a Parse of a query the server already holds is refused too (25P02), and so
     * registers nothing: after ROLLBACK the name is free.
     */
    @Test
    void parseOfHeldQueryInFailedTransactionIsRefused() throws IOException {
        check(Program.of(
                on(parse("s1", SERIES), sync()),
                on(query("BEGIN")),
                on(execute(), sync()),
                on(parse("s3", SERIES), sync()),
                on(query("ROLLBACK")),
                on(parse("s3", SERIES), bind("s3"), execute(), sync())));
    }

    /** A Close after an error in the same batch is skipped by the server: the statement still exists. */
    @Test
    void closeSkippedAfterErrorKeepsStatement() throws IOException {
        check(Program.of(
                on(parse("s2", SELECT_X), sync()),
                on(execute(), closeStatement("s2"), sync()),
                on(describeStatement("s2"), sync())));
    }

    /** The same seen through Parse: the name is still taken. */
    @Test
    void closeSkippedAfterErrorKeepsNameTaken() throws IOException {
        check(Program.of(
                on(parse("s2", SELECT_X), sync()),
                on(execute("p1", 0), closeStatement("s2"), sync()),
                on(parse("s2", PLUS_ONE), sync())));
    }

    /** And through SQL: DEALLOCATE of a statement whose protocol Close was skipped. */
    @Test
    void closeSkippedAfterErrorThenDeallocate() throws IOException {
        check(Program.of(
                on(query("PREPARE q AS SELECT 2")),
                on(execute(), closeStatement("q"), sync()),
                on(query("DEALLOCATE q"))));
    }

    /** Errors quote the client's statement name, never pgmux's server-side one. */
    @Test
    void bindErrorQuotesClientsStatementName() throws IOException {
        check(Program.of(
                on(parse("s1", SELECT_X), bind("", "s1", "99"), sync()),
                onOtherServer(bind("s1"), sync(), parse("s2", PLUS_ONE), sync()),
                on(bind("s2"), sync())));
    }

    @Test
    void executeErrorQuotesClientsStatementName() throws IOException {
        check(Program.of(
                on(parse("q", PLUS_ONE), sync()),
                onOtherServer(query("EXECUTE q"))));
    }

    /** A statement made by SQL PREPARE, bound with the extended protocol on a server that lacks it. */
    @Test
    void sqlPreparedStatementBoundOnAnotherServer() throws IOException {
        check(Program.of(
                on(query("PREPARE q AS SELECT 2")),
                onOtherServer(bind("q"), execute(), sync()),
                onOtherServer(describeStatement("q"), sync())));
    }

    /**
     * Pipelined units (several Syncs in one write): the second unit is rewritten before the first one's
     * outcome is known. Here the first Parse is skipped, so s2 is free again for the second.
     */
    @Test
    void pipelinedParseAfterSkippedParseOfSameName() throws IOException {
        check(Program.of(
                on(execute(), parse("s2", DIV_ZERO), sync(), parse("s2", SELECT_X), sync(), sync())));
    }

    /** Pipelined: the Parse pgmux injected for the Bind was skipped, so the Describe after Sync needs another. */
    @Test
    void pipelinedDescribeAfterSkippedInjectedParse() throws IOException {
        check(Program.of(
                on(parse("s3", PLUS_ONE), sync()),
                onOtherServer(describePortal(""), bind("", "s3", "43"), sync(), describeStatement("s3"), sync())));
    }

    /** Pipelined: the first unit fails the transaction, so the second unit's Parse is refused (25P02). */
    @Test
    void pipelinedParseInTransactionFailedByEarlierUnit() throws IOException {
        check(Program.of(
                on(query("BEGIN")),
                on(parse("s1", SERIES), execute(), sync(), parse("s3", SERIES), sync()),
                on(query("ROLLBACK")),
                on(parse("s3", SERIES), sync())));
    }

    /** Pipelined: the Parse of the first unit fails, so the Bind of the second names an unknown statement. */
    @Test
    void pipelinedBindAfterFailedParse() throws IOException {
        check(Program.of(
                on(parse("s3", INVALID), sync(), bind("p1", "s3"), sync(), parse("s3", SELECT_1), sync())));
    }

    /**
     * Pipelined simple queries: DEALLOCATE runs in a transaction the query before it failed, so Postgres
     * refuses it (25P02) and q survives the ROLLBACK.
     */
    @Test
    void pipelinedDeallocateInTransactionFailedByEarlierQuery() throws IOException {
        check(Program.of(
                on(query("PREPARE q AS SELECT 2")),
                on(query("BEGIN"), query("SELECT 1/0"), query("DEALLOCATE q")),
                on(query("ROLLBACK")),
                on(query("EXECUTE q"))));
    }

    /** Pipelined: DISCARD ALL drops s2 before the Parse after it runs, so that Parse must succeed. */
    @Test
    void pipelinedParseAfterDiscardAll() throws IOException {
        check(Program.of(
                on(parse("s2", SERIES), sync()),
                on(query("DISCARD ALL"), parse("s2", DIV_ZERO), sync())));
    }

    /**
     * A simple Query ends what extended-protocol messages before it began (Postgres commits them with the
     * query and is idle at its ReadyForQuery), so the server must go back to the pool there: pgmux keeps it
     * attached to the idle client until that client sends a Sync, which it need never do.
     */
    @Test
    void serverReleasedAfterQueryThatFollowsExtendedMessages() throws IOException {
        try (Placement.Controlled placement = new Placement.Controlled(pgmux.get());
             WireClient client = Placement.pgmuxClient(pgmux.get(), "client", Duration.ofSeconds(5))) {
            WireClient.Reply reply = client.exchange(Program.on(parse("s1", SELECT_1), query("SELECT 1")).bytes(), 1);
            assertEquals('I', WireClient.lastStatus(reply.messages()), reply.messages().toString());
            // The other holder needs the server the client just used: the only one not held.
            try {
                placement.beforeBatch(true);
            } catch (IOException e) {
                fail("the server stayed with the idle client after ReadyForQuery(I): " + e.getMessage());
            }
        }
    }

    /** cache_unnamed_statements on: the unnamed statement served from shared statements and followed across servers. */
    @Nested
    class UnnamedStatementsCached {
        @RegisterExtension
        static final PgmuxExtension cached = new PgmuxExtension(ModelSupport.twoServers(
                tenant -> tenant.withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true))));

        /**
         * A named and an unnamed statement of the same text and types share one server statement; bound on a
         * second server, then a failed Parse (duplicate name) and Binds skipped after it: the server still
         * holds the shared statement afterwards, and pgmux must know it (found by the model test, seed 23262173).
         */
        @Test
        void sharedStatementBoundAfterSkippedBindsOnAnotherServer() throws IOException {
            ModelSupport.assertSameAsDirect(cached.get(), Program.of(
                    on(parse("s2", ECHO, 23), sync()),
                    on(bind("p1", "s2"), sync()),
                    on(bind("", "s2", "77"), sync(), sync()),
                    on(parse("", ECHO, 23), bind("", "", "39"), sync()),
                    onOtherServer(sync()),
                    onOtherServer(bind("", "", "40"), sync(), sync(), parse("s2", ECHO), bind("", "s2", "81"),
                            bind("", "", "90"), sync()),
                    on(bind("", "s2", "8"), sync(), sync(), sync())));
        }

        /**
         * The unnamed statement parsed at the start of a unit that then fails (an Execute of no portal): its
         * Parse succeeded, so it stays for the next unit, on the same server and on another one. pgmux's own
         * Parse of it for the skipped Bind must not count as the server holding it.
         */
        @Test
        void unnamedStatementParsedBeforeAnErrorStaysForTheNextUnit() throws IOException {
            ModelSupport.assertSameAsDirect(cached.get(), Program.of(
                    on(parse("", SERIES), execute(), bind(""), sync(), bind(""), sync(), sync())));
            ModelSupport.assertSameAsDirect(cached.get(), Program.of(
                    on(parse("", PLUS_ONE), execute(), bind("", "", "1"), execute(), sync()),
                    on(bind("", "", "2"), execute(), sync()),
                    on(parse("", SERIES), execute(), describeStatement(""), sync()),
                    onOtherServer(describeStatement(""), bind(""), execute(), sync())));
        }
    }

    /** A pgmux of its own, default settings, whose servers have never held a statement. */
    @Nested
    class FreshServers {
        @RegisterExtension
        static final PgmuxExtension fresh = new PgmuxExtension(ModelSupport.twoServers());

        /**
         * DISCARD ALL as the first thing a server sees must not change how many statements pgmux keeps on
         * it (default 500): with room for one only, the Parse of s2 evicts s1 with a Close the server then
         * skips after the error, and s1 can no longer be prepared there again.
         */
        @Test
        void discardAllOnNewServerKeepsStatementBound() throws IOException {
            ModelSupport.assertSameAsDirect(fresh.get(), Program.of(
                    on(query("DISCARD ALL")),
                    on(parse("s1", SELECT_1), sync()),
                    on(execute(), parse("s2", SELECT_X), sync()),
                    on(bind("s1"), execute(), sync())));
        }
    }

    /** With a bound of one statement per server, eviction Closes are part of the unit too. */
    @Nested
    class OneStatementPerServer {
        @RegisterExtension
        static final PgmuxExtension small = new PgmuxExtension(ModelSupport.twoServers(
                tenant -> tenant.withPreparedStatements(tenant.preparedStatements().withMaxPerServer(1))));

        @Test
        void evictionsAndReprepares() throws IOException {
            ModelSupport.assertSameAsDirect(small.get(), Program.of(
                    on(parse("s1", SELECT_1), parse("s2", SELECT_X), bind("s1"), execute(), bind("s2"), execute(), sync()),
                    onOtherServer(bind("s2"), execute(), bind("s1"), execute(), sync()),
                    onOtherServer(describeStatement("s1"), describeStatement("s2"), sync())));
        }

        /** The eviction Close pgmux sent was skipped after the error: the server still holds the statement. */
        @Test
        void evictionSkippedAfterError() throws IOException {
            ModelSupport.assertSameAsDirect(small.get(), Program.of(
                    on(parse("s1", SELECT_1), sync()),
                    on(execute(), parse("s2", SELECT_X), sync()),
                    on(bind("s1"), execute(), sync())));
        }
    }
}
