package dev.pgmux.proxy.transaction;

import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.transaction.Expected.Delivery;
import dev.pgmux.proxy.transaction.Expected.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pgmux.protocol.testing.Inbound.concat;
import static dev.pgmux.proxy.transaction.Messages.buffer;
import static dev.pgmux.proxy.transaction.Messages.commandComplete;
import static dev.pgmux.proxy.transaction.Messages.dataRow;
import static dev.pgmux.proxy.transaction.Messages.empty;
import static dev.pgmux.proxy.transaction.Messages.error;
import static dev.pgmux.proxy.transaction.Messages.notice;
import static dev.pgmux.proxy.transaction.Messages.parameterDescription;
import static dev.pgmux.proxy.transaction.Messages.readyForQuery;
import static dev.pgmux.proxy.transaction.Messages.rowDescription;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link ResponseTracker} between a server and a client ({@link EmbeddedChannel}): what the client gets,
 * byte for byte, for the replies it is owed, the ones pgmux swallows and the ones pgmux makes itself, and
 * what the entries' outcomes hear.
 */
class ResponseTrackerTest {
    private static final byte[] PARSE_COMPLETE = empty('1');
    private static final byte[] BIND_COMPLETE = empty('2');
    private static final byte[] CLOSE_COMPLETE = empty('3');
    private static final byte[] SELECT_1 = commandComplete("SELECT 1");
    private static final byte[] IDLE = readyForQuery('I');
    private static final byte[] SYNTAX_ERROR = error("42601", "syntax error at or near \"SELEC\"");

    private final Client client = new Client();
    /** What the outcomes heard, in order. */
    private final List<String> events = new ArrayList<>();

    @AfterEach
    void close() {
        client.tracker.abandon(); // a failed test may leave synthetic frames queued
        client.channel.finishAndReleaseAll();
    }

    @Test
    void repliesReachTheClientInOrderWithoutTheSwallowedOnesAndWithTheSyntheticOnesInTheirPlace() {
        ResponseTracker tracker = client.tracker;
        // A simple query still running; then Parse s1 (held: answered by pgmux), an injected Parse, Bind,
        // Execute, Close s1 (answered by pgmux) and Sync.
        tracker.expect(Kind.QUERY, Delivery.CLIENT);
        tracker.synthesize(buffer(PARSE_COMPLETE), recorded("parse s1"));
        tracker.expect(Kind.PARSE, Delivery.SWALLOW, recorded("injected parse"));
        tracker.expect(Kind.BIND, Delivery.CLIENT);
        tracker.expect(Kind.EXECUTE, Delivery.CLIENT, recorded("execute"));
        tracker.synthesize(buffer(CLOSE_COMPLETE), recorded("close s1"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT);
        assertThat(client.received()).isEmpty();

        client.serverSends(rowDescription("?column?"), dataRow("1"), SELECT_1);
        assertThat(client.received()).isEqualTo(concat(rowDescription("?column?"), dataRow("1"), SELECT_1));
        assertThat(events).isEmpty();

        // The query's ReadyForQuery releases the ParseComplete waiting behind it.
        client.serverSends(IDLE);
        assertThat(client.received()).isEqualTo(concat(IDLE, PARSE_COMPLETE));
        assertThat(events).containsExactly("parse s1 succeeded");

        client.serverSends(PARSE_COMPLETE, BIND_COMPLETE, dataRow("2"), SELECT_1, IDLE);
        assertThat(client.received()).isEqualTo(concat(BIND_COMPLETE, dataRow("2"), SELECT_1, CLOSE_COMPLETE, IDLE));
        assertThat(events).containsExactly("parse s1 succeeded", "injected parse succeeded", "execute succeeded",
                "close s1 succeeded");
        assertThat(tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void anErrorUnwindsTheEntriesUpToSyncInReverseOrderAndDeliversNothingForThem() {
        ResponseTracker tracker = client.tracker;
        ByteBuf parseS2 = buffer(PARSE_COMPLETE);
        ByteBuf closeS3 = buffer(CLOSE_COMPLETE);
        tracker.expect(Kind.PARSE, Delivery.CLIENT, recorded("parse s1"));
        tracker.synthesize(parseS2, recorded("parse s2"));
        tracker.expect(Kind.BIND, Delivery.CLIENT, recorded("bind"));
        tracker.synthesize(closeS3, recorded("close s3"));
        tracker.expect(Kind.EXECUTE, Delivery.CLIENT, recorded("execute"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT, recorded("sync"));
        tracker.expect(Kind.PARSE, Delivery.CLIENT, recorded("parse s4"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT);

        client.serverSends(SYNTAX_ERROR);

        assertThat(client.received()).isEqualTo(SYNTAX_ERROR);
        // An undo log: "Close s1; Parse s1" must restore the first s1, so the last entry is undone first.
        assertThat(events).containsExactly("execute skipped", "close s3 skipped", "bind skipped", "parse s2 skipped",
                "parse s1 failed 42601");
        assertThat(parseS2.refCnt()).isZero();
        assertThat(closeS3.refCnt()).isZero();
        assertThat(tracker.pendingUnits()).isEqualTo(2);

        // The next sequence, after the Sync, is not touched.
        client.serverSends(IDLE, PARSE_COMPLETE, IDLE);
        assertThat(client.received()).isEqualTo(concat(IDLE, PARSE_COMPLETE, IDLE));
        assertThat(events).endsWith("sync succeeded", "parse s4 succeeded");
        assertThat(tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void afterAnErrorWithNoSyncYetEverythingUntilTheNextSyncIsSkippedAsItComes() {
        ResponseTracker tracker = client.tracker;
        tracker.expect(Kind.PARSE, Delivery.CLIENT, recorded("parse"));
        tracker.expect(Kind.BIND, Delivery.CLIENT, recorded("bind"));

        client.serverSends(SYNTAX_ERROR);
        assertThat(client.received()).isEqualTo(SYNTAX_ERROR);
        assertThat(events).containsExactly("bind skipped", "parse failed 42601");
        assertThat(tracker.idle()).as("the server discards messages until Sync").isFalse();
        assertThat(tracker.pendingUnits()).isZero();

        // The server will not answer these: they are failed at once, and a Query is discarded too.
        ByteBuf closeComplete = buffer(CLOSE_COMPLETE);
        tracker.expect(Kind.EXECUTE, Delivery.CLIENT, recorded("execute"));
        tracker.synthesize(closeComplete, recorded("close"));
        tracker.expect(Kind.QUERY, Delivery.CLIENT, recorded("query"));
        assertThat(events).endsWith("execute skipped", "close skipped", "query skipped");
        assertThat(closeComplete.refCnt()).isZero();
        assertThat(tracker.pendingUnits()).isZero();

        tracker.expect(Kind.SYNC, Delivery.CLIENT, recorded("sync"));
        assertThat(tracker.pendingUnits()).isEqualTo(1);
        client.serverSends(IDLE);

        assertThat(client.received()).isEqualTo(IDLE);
        assertThat(events).endsWith("sync succeeded");
        assertThat(tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void aQuerysErrorIsPartOfItsAnswerAndUnwindsNothing() {
        ResponseTracker tracker = client.tracker;
        byte[] divisionByZero = error("22012", "division by zero");
        tracker.expect(Kind.QUERY, Delivery.CLIENT, recorded("query"));
        tracker.synthesize(buffer(CLOSE_COMPLETE), recorded("close"));
        tracker.expect(Kind.PARSE, Delivery.CLIENT, recorded("parse"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT);

        client.serverSends(divisionByZero);
        assertThat(events).isEmpty();
        assertThat(tracker.idle()).isFalse();

        client.serverSends(IDLE, PARSE_COMPLETE, IDLE);
        assertThat(client.received()).isEqualTo(concat(divisionByZero, IDLE, CLOSE_COMPLETE, PARSE_COMPLETE, IDLE));
        assertThat(events).containsExactly("query succeeded", "close succeeded", "parse succeeded");
        assertThat(tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void anInjectedMessagesErrorReachesTheClientInPlaceOfTheMessageThatNeededIt() {
        ResponseTracker tracker = client.tracker;
        byte[] undefinedTable = error("42P01", "relation \"t\" does not exist");
        tracker.expect(Kind.PARSE, Delivery.SWALLOW, recorded("injected parse"));
        tracker.expect(Kind.BIND, Delivery.CLIENT, recorded("bind"));
        tracker.expect(Kind.EXECUTE, Delivery.CLIENT, recorded("execute"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT);

        client.serverSends(undefinedTable, IDLE);

        assertThat(client.received()).isEqualTo(concat(undefinedTable, IDLE));
        assertThat(events).containsExactly("execute skipped", "bind skipped", "injected parse failed 42P01");
        assertFalse(client.channel.finish());
    }

    @Test
    void aSwallowedQuerysAnswerErrorIncludedStaysWithPgmux() {
        ResponseTracker tracker = client.tracker;
        tracker.expect(Kind.QUERY, Delivery.SWALLOW, recorded("settings"));
        tracker.expect(Kind.QUERY, Delivery.CLIENT);

        client.serverSends(error("22023", "invalid value for parameter"), IDLE, empty('I'), IDLE);

        assertThat(client.received()).isEqualTo(concat(empty('I'), IDLE));
        assertThat(events).containsExactly("settings succeeded");
        assertFalse(client.channel.finish());
    }

    @Test
    void asynchronousMessagesOfPgmuxsOwnQueriesStayWithPgmuxExceptNotifications() {
        ResponseTracker tracker = client.tracker;
        byte[] parameterStatus = Messages.encoded(new ParameterStatus("TimeZone", "UTC"));
        byte[] notification = {'A', 0, 0, 0, 11, 0, 0, 0, 7, 'c', 0, 0};
        tracker.expect(Kind.QUERY, Delivery.SWALLOW);
        tracker.expect(Kind.QUERY, Delivery.CLIENT);

        client.serverSends(notice("pgmux's"), parameterStatus, notification, commandComplete("SET"), IDLE);
        client.serverSends(notice("the client's"), parameterStatus, empty('I'), IDLE);

        assertThat(client.received()).isEqualTo(concat(notification, notice("the client's"), parameterStatus, empty('I'), IDLE));
        assertFalse(client.channel.finish());
    }

    @Test
    void whatComesWithNothingOwedGoesToTheClient() {
        byte[] fatal = Messages.encoded(ErrorResponse.fatal("57P01", "terminating connection due to administrator command"));

        client.serverSends(fatal);

        assertThat(client.received()).isEqualTo(fatal);
        assertThat(client.tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void anOutcomeSeesEveryFrameOfItsReplyAndMayReplaceWhatTheClientGets() {
        ResponseTracker tracker = client.tracker;
        byte[] replaced = error("42P05", "prepared statement \"s1\" already exists");
        Expected.Outcome outcome = new Expected.Outcome() {
            @Override
            public void observe(ByteBuf frame) {
                events.add("saw " + (char) frame.getByte(frame.readerIndex()));
            }

            @Override
            public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                if (frame.getByte(frame.readerIndex()) != 'E') {
                    return frame;
                }
                frame.release();
                return buffer(replaced);
            }

            @Override
            public void failed(ErrorResponse error) {
                events.add("failed " + error.code());
            }
        };
        tracker.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, recorded("describe"));
        tracker.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, outcome);
        tracker.expect(Kind.SYNC, Delivery.CLIENT);

        client.serverSends(parameterDescription(25), rowDescription("?column?"),
                error("26000", "prepared statement \"pgmux/no such statement\" does not exist"), IDLE);

        assertThat(client.received()).isEqualTo(concat(parameterDescription(25), rowDescription("?column?"), replaced, IDLE));
        assertThat(events).containsExactly("describe succeeded", "saw E", "failed 26000");
        assertFalse(client.channel.finish());
    }

    @Test
    void relayPassesOnlyWhatNeedsNothingFromPgmux() {
        ResponseTracker tracker = client.tracker;
        ByteBuf batch = buffer(BIND_COMPLETE, SYNTAX_ERROR);
        int error = BIND_COMPLETE.length;
        try {
            tracker.expect(Kind.PARSE, Delivery.SWALLOW);
            assertThat(tracker.relay(batch, 0, BIND_COMPLETE.length)).as("a swallowed reply").isFalse();
            tracker.abandon();

            tracker.expect(Kind.BIND, Delivery.CLIENT, recorded("bind"));
            assertThat(tracker.relay(batch, 0, BIND_COMPLETE.length)).as("an outcome to tell").isFalse();
            tracker.abandon();

            tracker.expect(Kind.BIND, Delivery.CLIENT);
            tracker.synthesize(buffer(CLOSE_COMPLETE), Expected.Outcome.NONE);
            assertThat(tracker.relay(batch, 0, BIND_COMPLETE.length)).as("a synthetic reply waiting").isFalse();
            tracker.abandon();

            tracker.expect(Kind.BIND, Delivery.CLIENT);
            assertThat(tracker.relay(batch, error, SYNTAX_ERROR.length)).as("an error").isFalse();
            assertThat(tracker.relay(batch, 0, BIND_COMPLETE.length)).isTrue();
            client.out.emit(); // what was gathered refers to the batch
        } finally {
            batch.release();
        }
        client.out.flush();

        assertThat(client.received()).isEqualTo(BIND_COMPLETE);
        assertThat(tracker.idle()).isTrue();
        assertFalse(client.channel.finish());
    }

    @Test
    void relayingWhatItCanGivesTheClientTheSameBytesAsHandlingEveryFrame() {
        Client relaying = new Client();
        try {
            byte[][] answers = {
                    rowDescription("?column?"), dataRow("1"), dataRow("2"), notice("still here"), commandComplete("SELECT 2"), IDLE,
                    PARSE_COMPLETE, BIND_COMPLETE, dataRow("3"), SELECT_1, IDLE,
                    SYNTAX_ERROR, IDLE,
                    empty('I'), IDLE};
            for (Client each : List.of(client, relaying)) {
                ResponseTracker tracker = each.tracker;
                tracker.expect(Kind.QUERY, Delivery.CLIENT);
                tracker.expect(Kind.PARSE, Delivery.SWALLOW);
                tracker.expect(Kind.BIND, Delivery.CLIENT);
                tracker.expect(Kind.EXECUTE, Delivery.CLIENT, recorded("execute"));
                tracker.expect(Kind.SYNC, Delivery.CLIENT);
                tracker.expect(Kind.PARSE, Delivery.CLIENT);
                tracker.expect(Kind.BIND, Delivery.CLIENT);
                tracker.expect(Kind.SYNC, Delivery.CLIENT);
                tracker.expect(Kind.QUERY, Delivery.CLIENT);
            }

            client.serverSends(answers);
            int relayed = relaying.serverSendsBatch(answers);

            // All but the swallowed ParseComplete, the Execute's answer (its outcome hears it) and the error.
            assertThat(relayed).isEqualTo(answers.length - 4);
            byte[] expected = concat(rowDescription("?column?"), dataRow("1"), dataRow("2"), notice("still here"),
                    commandComplete("SELECT 2"), IDLE, BIND_COMPLETE, dataRow("3"), SELECT_1, IDLE,
                    SYNTAX_ERROR, IDLE, empty('I'), IDLE);
            assertThat(client.received()).isEqualTo(expected);
            assertThat(relaying.received()).isEqualTo(expected);
            assertThat(events).containsExactly("execute succeeded", "execute succeeded");
            assertThat(relaying.tracker.idle()).isTrue();
            assertFalse(relaying.channel.finish());
            assertFalse(client.channel.finish());
        } finally {
            relaying.tracker.abandon();
            relaying.channel.finishAndReleaseAll();
        }
    }

    @Test
    void pendingUnitsCountSyncsQueriesAndFunctionCallsUntilTheirReadyForQuery() {
        ResponseTracker tracker = client.tracker;
        assertThat(tracker.idle()).isTrue();

        tracker.expect(Kind.PARSE, Delivery.CLIENT);
        assertThat(tracker.pendingUnits()).isZero();
        assertThat(tracker.idle()).isFalse();
        tracker.expect(Kind.SYNC, Delivery.CLIENT);
        tracker.expect(Kind.QUERY, Delivery.CLIENT);
        tracker.expect(Kind.FUNCTION_CALL, Delivery.CLIENT);
        assertThat(tracker.pendingUnits()).isEqualTo(3);

        byte[] functionResult = {'V', 0, 0, 0, 9, 0, 0, 0, 1, '7'};
        client.serverSends(PARSE_COMPLETE);
        assertThat(tracker.pendingUnits()).isEqualTo(3);
        client.serverSends(IDLE);
        assertThat(tracker.pendingUnits()).isEqualTo(2);
        client.serverSends(empty('I'), IDLE);
        assertThat(tracker.pendingUnits()).isEqualTo(1);
        client.serverSends(functionResult);
        assertThat(tracker.pendingUnits()).isEqualTo(1);
        client.serverSends(IDLE);

        assertThat(tracker.pendingUnits()).isZero();
        assertThat(tracker.idle()).isTrue();
        assertThat(client.received()).isEqualTo(concat(PARSE_COMPLETE, IDLE, empty('I'), IDLE, functionResult, IDLE));
        assertFalse(client.channel.finish());
    }

    @Test
    void abandonFailsEverythingOwedInOrderAndReleasesTheSyntheticFrames() {
        ResponseTracker tracker = client.tracker;
        ByteBuf first = buffer(PARSE_COMPLETE);
        ByteBuf second = buffer(CLOSE_COMPLETE);
        tracker.expect(Kind.QUERY, Delivery.CLIENT, recorded("query"));
        tracker.synthesize(first, recorded("parse s1"));
        tracker.expect(Kind.PARSE, Delivery.SWALLOW, recorded("injected parse"));
        tracker.synthesize(second, recorded("close s1"));
        tracker.expect(Kind.SYNC, Delivery.CLIENT, recorded("sync"));

        tracker.abandon();

        assertThat(events).containsExactly("query skipped", "parse s1 skipped", "injected parse skipped", "close s1 skipped",
                "sync skipped");
        assertThat(first.refCnt()).isZero();
        assertThat(second.refCnt()).isZero();
        assertThat(tracker.pendingUnits()).isZero();
        assertThat(tracker.idle()).isTrue();
        assertThat(client.received()).isEmpty();
        assertFalse(client.channel.finish());
    }

    @Test
    void abandonEndsSkippingToo() {
        ResponseTracker tracker = client.tracker;
        tracker.expect(Kind.EXECUTE, Delivery.CLIENT);
        client.serverSends(SYNTAX_ERROR);
        assertThat(tracker.idle()).isFalse();

        tracker.abandon();

        assertThat(tracker.idle()).isTrue();
        tracker.expect(Kind.QUERY, Delivery.CLIENT, recorded("query"));
        assertThat(events).as("a new server answers what comes next").isEmpty();
        tracker.abandon();
        assertThat(client.received()).isEqualTo(SYNTAX_ERROR);
        assertFalse(client.channel.finish());
    }

    /** An outcome that tells {@link #events} what happened to {@code name}. */
    private Expected.Outcome recorded(String name) {
        return new Expected.Outcome() {
            @Override
            public void succeeded() {
                events.add(name + " succeeded");
            }

            @Override
            public void failed(ErrorResponse error) {
                events.add(name + (error == null ? " skipped" : " failed " + error.code()));
            }
        };
    }

    /** The client's end: a channel, the writer pgmux writes to it with, and the tracker. */
    private static final class Client {
        final EmbeddedChannel channel = new EmbeddedChannel();
        final MessageWriter out = new MessageWriter(MessageWriter.entry(channel), channel.alloc());
        final ResponseTracker tracker = new ResponseTracker(out);

        /** Each message handled on its own, as it is when the server runs on another event loop. */
        void serverSends(byte[]... messages) {
            for (byte[] message : messages) {
                tracker.onServerFrame(buffer(message));
            }
            out.flush();
        }

        /** The messages as one read, passed on by {@link ResponseTracker#relay} where it can; returns how many it took. */
        int serverSendsBatch(byte[]... messages) {
            ByteBuf batch = buffer(messages);
            int relayed = 0;
            try {
                int at = 0;
                for (byte[] message : messages) {
                    if (tracker.relay(batch, at, message.length)) {
                        relayed++;
                    } else {
                        tracker.onServerFrame(batch.retainedSlice(at, message.length));
                    }
                    at += message.length;
                }
                out.emit();
            } finally {
                batch.release();
            }
            out.flush();
            return relayed;
        }

        /** Everything written to the client since the last call, as one stream. */
        byte[] received() {
            List<byte[]> writes = new ArrayList<>();
            for (Object written; (written = channel.readOutbound()) != null; ) {
                ByteBuf buf = (ByteBuf) written;
                try {
                    writes.add(ByteBufUtil.getBytes(buf));
                } finally {
                    buf.release();
                }
            }
            return concat(writes.toArray(byte[][]::new));
        }
    }
}
