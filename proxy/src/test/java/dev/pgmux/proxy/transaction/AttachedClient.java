package dev.pgmux.proxy.transaction;

import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.proxy.client.ExtendedSequence;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.prepared.ClientStatements;
import dev.pgmux.proxy.prepared.StatementCache;
import dev.pgmux.proxy.server.ScriptedServers;
import dev.pgmux.proxy.transaction.Expected.Delivery;
import dev.pgmux.proxy.transaction.Expected.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.ArrayList;
import java.util.List;

/**
 * One client of the transaction port, with a {@link StatementRewriter} and a {@link ResponseTracker} between
 * it and {@link ScriptedServer}s, wired as {@link TransactionModeHandler} wires them: messages go through
 * its {@code process} (its fast path for the unnamed statement forwards the same way), the server's answers
 * through its {@code serverMessage}. The client is an {@link EmbeddedChannel}: what it was sent is read
 * from its outbound side.
 *
 * <p>The handler holds back a message that depends on how earlier messages turn out (a Parse, Bind, Close or
 * Describe of a statement while a Sync or Query is unanswered; a Query it may rewrite while anything is) until
 * the server has answered them; here the server answers at that point, which comes to the same.
 */
final class AttachedClient {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final MessageWriter out = new MessageWriter(MessageWriter.entry(channel), channel.alloc());
    private final ResponseTracker responses = new ResponseTracker(out);
    private final MessageWriter toServer = new MessageWriter(null, channel.alloc());
    private final ExtendedSequence sequence = new ExtendedSequence();
    private final StatementRewriter rewriter;
    private ScriptedServer server;

    AttachedClient(PreparedStatementMode mode, StatementCache cache, int maxServerStatements) {
        rewriter = new StatementRewriter(mode, new ClientStatements(cache, 100), maxServerStatements, changes -> { },
                toServer);
    }

    /** Takes {@code next} as its server; the one it had must be releasable, as the handler releases it. */
    AttachedClient attach(ScriptedServer next) {
        if (server != null && !releasable()) {
            throw new AssertionError("the handler would not let " + server + " go: idle " + responses.idle()
                    + ", sequence open " + sequence.open() + ", status " + (char) server.connection().transactionStatus());
        }
        server = next;
        toServer.target(next.connection().outbound());
        rewriter.attach(next.connection(), responses);
        return this;
    }

    /** Nothing owed, no sequence open, outside a transaction: the handler would release the server now. */
    boolean releasable() {
        return responses.idle() && !sequence.open() && server.connection().transactionStatus() == 'I';
    }

    /** The client's messages, as one read; then the server answers all of them. */
    void run(byte[]... messages) {
        send(messages);
        answer();
    }

    /** The client's messages, as one read, sent on (as far as they can be) but not yet answered. */
    void send(byte[]... messages) {
        for (byte[] message : messages) {
            if (waitsForEarlierReplies(message)) {
                answer();
            }
            process(Messages.buffer(message));
        }
        toServer.flush();
        out.flush();
    }

    /** The server answers everything it was sent, in one batch that goes through the tracker to the client. */
    void answer() {
        toServer.flush();
        ByteBuf batch = server.answer(channel.alloc());
        try {
            for (int at = batch.readerIndex(); at < batch.writerIndex(); ) {
                int length = Frames.length(batch, at);
                if (batch.getByte(at) == 'Z') {
                    ScriptedServers.readyForQuery(server.connection(), batch.getByte(at + Frames.HEADER));
                }
                if (!responses.relay(batch, at, length)) {
                    responses.onServerFrame(batch.retainedSlice(at, length));
                }
                at += length;
            }
            out.emit(); // what was gathered refers to the batch
        } finally {
            batch.release();
        }
        out.flush();
    }

    /** What the client received since the last call, one line per message ({@link Messages#backendLine}). */
    List<String> received() {
        List<String> lines = new ArrayList<>();
        for (Object written; (written = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) written;
            try {
                Messages.split(ByteBufUtil.getBytes(buf)).forEach(message -> lines.add(Messages.backendLine(message)));
            } finally {
                buf.release();
            }
        }
        return lines;
    }

    /** Ends the client: true if it was owed anything or was sent something it never read (all released). */
    boolean finish() {
        boolean owed = !responses.idle();
        responses.abandon();
        rewriter.statements().clear();
        boolean unread = channel.finish();
        channel.finishAndReleaseAll();
        return owed || unread;
    }

    ClientStatements statements() {
        return rewriter.statements();
    }

    private boolean waitsForEarlierReplies(byte[] message) {
        return switch (message[0]) {
            case 'P', 'B', 'C' -> responses.pendingUnits() > 0;
            case 'D' -> message[Frames.HEADER] == 'S' && responses.pendingUnits() > 0;
            case 'Q' -> !responses.nothingOwed() && SqlCommands.mayNeedAnalysis(Unpooled.wrappedBuffer(message),
                    Frames.HEADER, message.length - Frames.HEADER - 1);
            default -> false;
        };
    }

    private void process(ByteBuf frame) {
        byte tag = Frames.tag(frame);
        rewriter.sequenceOpen(sequence.open(), !sequence.executed() && responses.pendingUnits() == 0);
        sequence.sent(tag);
        switch (tag) {
            case 'Q' -> {
                String sql = StatementRewriter.decode(frame, FrontendCodec::decodeQuery).sql();
                List<SqlCommands.Command> commands = SqlCommands.analyze(sql);
                if (commands.size() == 1 && rewriter.query(commands.get(0))) {
                    frame.release();
                } else {
                    forward(frame, Kind.QUERY);
                }
            }
            case 'P' -> rewriter.parse(frame, !sequence.executed() && server.connection().transactionStatus() != 'E');
            case 'B' -> rewriter.bind(frame);
            case 'D' -> rewriter.describe(frame);
            case 'C' -> rewriter.close(frame);
            case 'E' -> forward(frame, Kind.EXECUTE);
            case 'S' -> forward(frame, Kind.SYNC);
            default -> toServer.write(frame);
        }
    }

    private void forward(ByteBuf frame, Kind kind) {
        toServer.write(frame);
        responses.expect(kind, Delivery.CLIENT);
    }
}
