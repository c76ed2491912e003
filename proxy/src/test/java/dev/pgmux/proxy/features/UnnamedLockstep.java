package dev.pgmux.proxy.features;

import static org.assertj.core.api.Assertions.fail;

import dev.pgmux.proxy.model.Op;
import dev.pgmux.proxy.model.Placement;
import dev.pgmux.proxy.model.Responses;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.WireClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One client on a direct Postgres connection and one through a pgmux port, sent the same batches in
 * lockstep; each batch must be answered with the same messages (see {@link Responses}: the same
 * descriptions, rows, tags and SQLSTATEs). On the transaction port, {@link #switchServer} moves the pgmux
 * client to the other of the pool's two servers (a holder client pins the one not to use).
 */
final class UnnamedLockstep implements AutoCloseable {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private final Port port;
    private final WireClient direct;
    private final WireClient mux;
    private final Placement placement;
    private final List<String> history = new ArrayList<>();

    private UnnamedLockstep(Port port, WireClient direct, WireClient mux, Placement placement) {
        this.port = port;
        this.direct = direct;
        this.mux = mux;
        this.placement = placement;
    }

    /** Both clients; with {@code placement} (transaction port, pool of exactly two), switches are controlled. */
    static UnnamedLockstep open(PgmuxHarness pgmux, Port port, boolean placement) throws IOException {
        TestPostgres pg = TestPostgres.get();
        Placement controlled = placement && port == Port.TRANSACTION ? new Placement.Controlled(pgmux) : null;
        WireClient direct = null;
        try {
            direct = WireClient.login("direct", pg.host(), pg.port(), TestPostgres.SCRAM.name(),
                    TestPostgres.SCRAM.password(), "postgres", READ_TIMEOUT);
            WireClient mux = WireClient.login("pgmux " + port, "127.0.0.1", port.of(pgmux),
                    PgmuxHarness.tenantUser(TestPostgres.SCRAM), PgmuxHarness.password(TestPostgres.SCRAM), "postgres",
                    READ_TIMEOUT);
            return new UnnamedLockstep(port, direct, mux, controlled);
        } catch (IOException | RuntimeException e) {
            if (direct != null) {
                direct.close();
            }
            if (controlled != null) {
                controlled.close();
            }
            throw e;
        }
    }

    /**
     * Sends {@code ops} to both in one write, reads up to their last ReadyForQuery, fails unless pgmux answered
     * exactly as the direct server did; returns the direct server's answer (notices and parameters left out).
     */
    List<BackendMessage> same(Op... ops) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ready = 0;
        for (Op op : ops) {
            op.encode(out);
            ready += op.readyCount();
        }
        byte[] bytes = out.toByteArray();
        history.add(Arrays.toString(ops));
        WireClient.Reply expected = direct.exchange(bytes, ready);
        if (!expected.complete()) {
            throw new IOException("direct Postgres did not answer " + Arrays.toString(ops) + ": " + expected.failure());
        }
        WireClient.Reply actual = mux.exchange(bytes, ready);
        Responses.Difference difference = Responses.compare(expected.messages(), actual.messages());
        if (difference == null && !actual.complete()) {
            difference = new Responses.Difference(Responses.relevant(actual.messages()).size(), actual.failure());
        }
        if (difference != null) {
            fail("pgmux (" + port + " port) answered differently from direct Postgres at message " + difference.index()
                    + ": " + difference.what() + "\nbatches sent:\n  " + String.join("\n  ", history) + "\n"
                    + Responses.sideBySide(expected.messages(), actual.messages(), difference.index()));
        }
        return Responses.relevant(expected.messages());
    }

    /** Between transactions: the pgmux client's next batch runs on the other server (transaction port). */
    void switchServer() throws IOException {
        if (placement != null) {
            placement.beforeBatch(true);
        }
        history.add("-- other server --");
    }

    /** Something done meanwhile by another connection (DDL), for the failure report. */
    void note(String what) {
        history.add("-- " + what + " --");
    }

    /** The server the pgmux client's next batch runs on, as seen by a simple query (which ends the unit). */
    String muxServerPid() throws IOException {
        return mux.queryValue("SELECT pg_backend_pid()");
    }

    @Override
    public void close() {
        mux.close();
        direct.close();
        if (placement != null) {
            placement.close();
        }
    }

    // --- what a test checks of the direct answer, so that an equal answer is also the interesting one ---

    static List<String> sqlStates(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'E').map(BackendMessage::sqlState).toList();
    }

    static List<List<String>> columns(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'T').map(BackendMessage::columnNames).toList();
    }

    static List<List<String>> rows(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'D').map(BackendMessage::values).toList();
    }
}
