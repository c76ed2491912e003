package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.protocol.testing.LeakDetection;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Generated message sequences after login, well-formed and malformed mixed, on both ports, against a real
 * pgmux and Postgres: whatever a client sends, it is answered up to its last Sync or closed after an error
 * within a bounded time (never left waiting), and pgmux goes on serving everyone else with every pool intact.
 * The tries are bounded (each is a login and a few round trips).
 */
class WireFuzzProperties {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
    private static final List<String> QUERIES = List.of("SELECT 1", "SELECT 1/0", "BEGIN", "COMMIT", "ROLLBACK",
            "SELECT pg_sleep(0.01)", "SET application_name = 'fuzz'", "RESET ALL", "PREPARE fz AS SELECT 1",
            "EXECUTE fz", "DEALLOCATE fz", "SAVEPOINT s", "ROLLBACK TO SAVEPOINT s", "SELECT $1::int", "not sql",
            "SELECT 1; SELECT 2", "DISCARD ALL", "");
    private static final List<String> NAMES = List.of("", "s1", "s2", "pgmux_1");

    private static PgmuxHarness pgmux;

    @BeforeContainer
    static void start() {
        pgmux = PgmuxHarness.start(t -> t.withPoolSize(2));
    }


    /** One message: a well-formed one of the extended or simple protocol, or a frame with garbage inside. */
    @Provide
    Arbitrary<byte[]> message() {
        Arbitrary<String> query = Arbitraries.of(QUERIES);
        Arbitrary<String> name = Arbitraries.of(NAMES);
        Arbitrary<byte[]> garbage = Combinators.combine(Arbitraries.of('P', 'B', 'D', 'E', 'C', 'Q', 'F', 'H', 'S', 'd', 'c', 'f', 'z'),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40)).as((tag, payload) -> Wire.message(tag, payload));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Combinators.combine(name, query).as(WireFuzzProperties::parse)),
                net.jqwik.api.Tuple.of(3, name.map(WireFuzzProperties::bind)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(Arbitraries.of('S', 'P'), name).as(WireFuzzProperties::describe)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 2).map(WireFuzzProperties::execute)),
                net.jqwik.api.Tuple.of(1, Combinators.combine(Arbitraries.of('S', 'P'), name).as(WireFuzzProperties::close)),
                net.jqwik.api.Tuple.of(2, query.map(Wire::query)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Wire.message('S', new byte[0]))),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Wire.message('H', new byte[0]))),
                net.jqwik.api.Tuple.of(2, garbage));
    }

    @Property(tries = 150)
    void everyClientIsAnsweredOrClosedAndPgmuxGoesOn(@ForAll Port port, @ForAll("sequence") List<byte[]> messages)
            throws Exception {
        check(port, messages);
    }

    /**
     * Found by the property: a message type no client may send (here 'z') used to reach the server, which hangs
     * up with the client's later messages unread; the reset lost its last words, and the client read of a lost
     * server (08006) instead of its own error.
     */
    @Example
    void anUnknownMessageTypeGetsPgmuxsOwn08P01OnBothPorts() throws Exception {
        for (Port port : Port.values()) {
            check(port, List.of(Wire.message('z', new byte[0])));
            check(port, List.of(parse("", "RESET ALL"), bind("s1"), Wire.message('z', new byte[] {7, 1, 2, -34, -127, -127})));
        }
    }

    /**
     * Found by the property: the FATAL error for a malformed message went out while the server's answer to an
     * earlier Query was still on its way, and that answer followed the FATAL; with io_uring, ending the output
     * then (a half-close) while a write was in flight broke Netty's accounting and stopped an event loop.
     */
    @Example
    void theFatalErrorForAMalformedMessageIsTheClientsLastWord() throws Exception {
        for (Port port : Port.values()) {
            check(port, List.of(Wire.message('S', new byte[0]), Wire.query("ROLLBACK TO SAVEPOINT s"),
                    Wire.message('P', new byte[] {-127})));
        }
    }

    /**
     * Found by the property: a named Parse that waited behind a Sync was sent on once the Sync was answered, and
     * the Query behind it waited for its ParseComplete, which Postgres keeps until a Sync or Flush: nobody sent
     * one, and the client waited for ever.
     */
    @Example
    void aQueryWaitingForAReplayedParseGetsItsAnswer() throws Exception {
        for (Port port : Port.values()) {
            check(port, List.of(Wire.message('S', new byte[0]), parse("s1", "SELECT pg_sleep(0.01)"),
                    Wire.query("PREPARE fz AS SELECT 1"), describe('P', ""), execute(2)));
        }
    }

    /**
     * Found by the property: a Flush with bytes inside, which Postgres answers with an error that then skips
     * the rest to Sync, put the answers out of line with the messages in transaction mode (the client waited
     * for ever). Each port must answer it and go on, or refuse it with 08P01 and close.
     */
    @Example
    void aFlushWithAPayloadIsAnsweredOrRefused() throws Exception {
        for (Port port : Port.values()) {
            check(port, List.of(close('S', "pgmux_1"), Wire.message('H', new byte[] {61, 2, 69, 41, -102, 21}),
                    Wire.query("not sql"), parse("s2", "PREPARE fz AS SELECT 1"), Wire.message('H', new byte[0])));
        }
    }

    private static void check(Port port, List<byte[]> messages) throws Exception {
        // After the generated messages: a Sync (which ends any skipping after an error), then a ROLLBACK that
        // ends whatever transaction they left, then a query whose answer marks the end of everything before.
        // Counting ReadyForQuery instead would need Postgres' rules (a Query sent while it skips to Sync is
        // dropped unanswered); the marker needs none.
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        messages.forEach(batch::writeBytes);
        batch.writeBytes(Wire.message('S', new byte[0]));
        batch.writeBytes(Wire.query("ROLLBACK"));
        batch.writeBytes(Wire.query("SELECT 'end of fuzz'"));
        try (WireClient client = WireClient.login("fuzz", "127.0.0.1", port.of(pgmux), PgmuxHarness.tenantUser(ROLE),
                ROLE.password(), "postgres", ANSWER_WITHIN)) {
            client.send(batch.toByteArray());
            List<BackendMessage> received = new ArrayList<>();
            String failure = null;
            while (!sawMarker(received)) {
                WireClient.Reply reply = client.readUntilReady(1);
                received.addAll(reply.messages());
                if (!reply.complete()) {
                    failure = reply.failure();
                    break;
                }
            }
            if (failure != null) {
                assertThat(failure).as("never left waiting; got %s", names(received)).contains("connection lost");
                assertThat(received).as("a close comes after an error that says why").isNotEmpty();
                assertThat(received.getLast().tag()).as("a close comes after an error that says why; got %s",
                        names(received)).isEqualTo('E');
                // The client's own bad input is its error (08P01), never reported as a lost server (08006).
                assertThat(received.getLast().sqlState()).as("the error before the close; got %s", names(received))
                        .isNotEqualTo("08006");
            }
        }
        try (Connection other = port.connect(pgmux, ROLE)) {
            assertThat(text(other, "SELECT 'still serving'")).isEqualTo("still serving");
        }
    }

    @AfterContainer
    static void poolsEndQuietWithNoBufferLeaked() {
        try {
            pgmux.awaitQuiet(ROLE);
            assertThat(pgmux.stats(ROLE).open()).isLessThanOrEqualTo(2);
        } finally {
            pgmux.close();
        }
        LeakDetection.detect(); // the leak check of the JUnit Jupiter tests does not cover jqwik's
        assertThat(LeakDetection.leaks()).as("ByteBuf leaks").isEmpty();
    }

    @Provide
    Arbitrary<List<byte[]>> sequence() {
        return message().list().ofMinSize(1).ofMaxSize(8);
    }

    private static boolean sawMarker(List<BackendMessage> messages) {
        return !messages.isEmpty() && messages.getLast().tag() == 'Z' && messages.stream()
                .anyMatch(m -> m.tag() == 'D' && List.of("end of fuzz").equals(m.values()));
    }

    private static List<String> names(List<BackendMessage> messages) {
        return messages.stream().map(m -> m.tag() == 'E' ? "E(" + m.sqlState() + ")" : String.valueOf(m.tag())).toList();
    }

    private static byte[] parse(String name, String query) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        Wire.cstring(p, name);
        Wire.cstring(p, query);
        Wire.int16(p, 0);
        return Wire.message('P', p.toByteArray());
    }

    private static byte[] bind(String statement) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        Wire.cstring(p, "");
        Wire.cstring(p, statement);
        Wire.int16(p, 0);
        Wire.int16(p, 0);
        Wire.int16(p, 0);
        return Wire.message('B', p.toByteArray());
    }

    private static byte[] describe(char kind, String name) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(kind);
        Wire.cstring(p, name);
        return Wire.message('D', p.toByteArray());
    }

    private static byte[] close(char kind, String name) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(kind);
        Wire.cstring(p, name);
        return Wire.message('C', p.toByteArray());
    }

    private static byte[] execute(int maxRows) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        Wire.cstring(p, "");
        p.writeBytes(ByteBuffer.allocate(4).putInt(maxRows).array());
        return Wire.message('E', p.toByteArray());
    }
}
