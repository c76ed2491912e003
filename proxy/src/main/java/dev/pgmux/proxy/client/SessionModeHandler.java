package dev.pgmux.proxy.client;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.protocol.message.frontend.Terminate;
import dev.pgmux.proxy.pool.CheckoutException;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.CloseReason;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerQuery;
import dev.pgmux.proxy.server.UpstreamException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;

/**
 * Session mode: the client holds one server from login to logout and every message passes through
 * untouched, as whole frames, flushed once per read batch.
 *
 * <pre>
 *   CHECKOUT: wait for a server from the pool (FIFO, checkout_timeout); what the client sends meanwhile is
 *             kept, its reads paused past 64 KiB
 *   SETUP:    apply the client's startup settings the server lacks, then send ParameterStatus,
 *             pgmux's BackendKeyData and ReadyForQuery
 *   RELAY:    client frames -> server, server frames -> client
 *   CLOSED:   the server goes back to the pool after server_reset_query if the client left it idle
 *             with no protocol exchange open; otherwise it is closed. A shutdown ends the client at the first
 *             ReadyForQuery('I') with nothing more sent (see {@link EndWhenIdle}) and gives the server back
 * </pre>
 */
final class SessionModeHandler extends ServerRelay implements ServerPool.CheckoutListener, EndWhenIdle {
    private static final Logger log = LoggerFactory.getLogger(SessionModeHandler.class);

    private enum State { CHECKOUT, SETUP, RELAY, CLOSED }

    /**
     * What the client sends before its server is ready. Reads stay on while little waits, so that a client
     * that leaves while queued for a server is noticed on every transport (NIO learns of a close only by
     * reading); past this many bytes they pause.
     */
    private final ArrayDeque<ByteBuf> early = new ArrayDeque<>();
    private static final int MAX_EARLY_BYTES = 64 * 1024;
    private int earlyBytes;
    private ServerPool pool;
    private ServerPool.Waiter checkout;
    private ServerConnection server;
    private State state = State.CHECKOUT;
    /** Where the client is in its extended-protocol sequences and which ReadyForQuery it awaits. */
    private final ExtendedSequence sequence = new ExtendedSequence();
    /** pgmux is shutting down: the client is ended with this error as soon as it is idle. */
    private ErrorResponse farewell;

    SessionModeHandler(ClientConnection client) {
        super(client);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        pool = client.runtime().pools().join(client.tenant(), client.database(), client.user());
        client.joined(pool);
        client.servedBy(this);
        client.waitingForServer();
        checkout = pool.acquire(ctx.channel().eventLoop(), this);
    }

    @Override
    public void checkoutFailed(Throwable cause) {
        guarded(() -> checkoutEnded(cause));
    }

    private void checkoutEnded(Throwable cause) {
        if (state == State.CLOSED) {
            return; // the client left while waiting
        }
        state = State.CLOSED;
        switch (cause) {
            case CheckoutException e when e.timedOut() -> client.fatal(ClientErrors.checkoutTimeout(e, "Session"));
            case CheckoutException e -> client.fatal(SqlState.CANNOT_CONNECT_NOW, e.getMessage());
            case UpstreamException e when e.serverError() != null ->
                    client.fatal(e.serverError().code(), e.serverError().message());
            default -> client.fatal(SqlState.CONNECTION_FAILURE, UpstreamException.forClient(cause));
        }
    }

    @Override
    public void checkedOut(ServerConnection acquired) {
        if (state == State.CLOSED || !ctx.channel().isActive()) {
            pool.release(acquired);
            return;
        }
        if (!client.attach(pool, acquired, this)) {
            client.waitingForServer();
            checkout = pool.acquire(ctx.channel().eventLoop(), this); // it closed on its way here: wait for another
            return;
        }
        server = acquired;
        state = State.SETUP;
        String setup = acquired.session().differences(client.sessionParameters());
        if (setup == null) {
            guarded(this::welcome);
        } else {
            ServerQuery.run(acquired, setup, ctx.channel().eventLoop()).addListener(f -> guarded(() -> settingsApplied(f)));
        }
    }

    private void settingsApplied(Future<? super ErrorResponse> future) {
        if (state == State.CLOSED) {
            // The client left while pgmux's own query was in flight: only now is the server quiet.
            if (future.isSuccess() && future.getNow() == null) {
                releaseServer();
            } else {
                server = null;
                ServerConnection held = client.detach();
                if (held != null) {
                    pool.discard(held, CloseReason.RESET_FAILED);
                }
            }
            return;
        }
        if (!future.isSuccess()) {
            serverLost(future.cause());
            return;
        }
        ErrorResponse error = (ErrorResponse) future.getNow();
        if (error == null) {
            server.session().applied(client.sessionParameters());
        } else {
            // As Postgres would have refused these startup settings: FATAL, and the server stays clean.
            client.fatal(error.code(), error.message());
            state = State.CLOSED;
            releaseServer();
            return;
        }
        welcome();
    }

    private void welcome() {
        server.attach(this);
        for (Map.Entry<String, String> parameter : server.parameters().entrySet()) {
            ctx.write(BackendCodec.encode(new ParameterStatus(parameter.getKey(), parameter.getValue()), ctx.alloc()));
        }
        ctx.write(BackendCodec.encode(client.issueCancelKey(server), ctx.alloc()));
        ctx.writeAndFlush(BackendCodec.encode(ReadyForQuery.IDLE, ctx.alloc()));
        client.welcomed();
        state = State.RELAY;
        while (!early.isEmpty()) {
            forwardToServer(early.poll());
        }
        server.flush();
        clientReads(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            requireFrontendMessage(Frames.tag(frame));
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        switch (state) {
            case RELAY -> forwardToServer(frame);
            case CHECKOUT, SETUP -> {
                early.add(frame);
                earlyBytes += frame.readableBytes();
                if (earlyBytes > MAX_EARLY_BYTES) {
                    clientReads(false); // resumed once the server is ready
                }
            }
            case CLOSED -> frame.release();
        }
    }

    private void forwardToServer(ByteBuf frame) {
        byte tag = Frames.tag(frame);
        if (tag == Terminate.TAG) {
            frame.release();
            ctx.close();
            return;
        }
        sequence.sent(tag);
        requestRead(frame.readableBytes());
        server.write(frame);
    }

    @Override
    public void onServerMessage(ServerConnection from, ByteBuf batch, int index, int length) {
        if (from != server || state != State.RELAY) {
            return;
        }
        byte tag = batch.getByte(index);
        relayed(length);
        if (tag == ReadyForQuery.TAG) {
            sequence.readyForQuery();
            out.relay(batch, index, length);
            readyForQuery(batch.getByte(index + length - 1));
            endIfIdle();
            return;
        } else if (tag == ErrorResponse.TAG) {
            noteServerError(batch, index, length);
        }
        out.relay(batch, index, length);
    }

    @Override
    public void endWhenIdle(ErrorResponse farewell) {
        this.farewell = farewell;
        endIfIdle();
    }

    /**
     * A shutdown asked to end the client, and the server is between transactions with nothing more asked of
     * it: what the client is owed goes out, the server goes back to its pool (reset), then the farewell.
     */
    private void endIfIdle() {
        if (farewell == null || state != State.RELAY || !sequence.quiet()
                || server.transactionStatus() != ReadyForQuery.IDLE.status()) {
            return;
        }
        out.flush();
        releaseServer();
        state = State.CLOSED;
        client.farewell(farewell);
    }

    @Override
    public void onServerClosed(ServerConnection from, Throwable cause) {
        if (from == server) {
            serverLost(cause);
        }
    }

    private void serverLost(Throwable cause) {
        // Every client of a restarted upstream says so: once per repeat interval and pool, then a count.
        client.runtime().logs().repeats().info(log, "upstream connection lost (pool " + pool.key() + ")",
                "{}: upstream connection lost: {}", client, cause.getMessage());
        server = null;
        ServerConnection lost = client.detach();
        if (lost != null) {
            pool.discard(lost, CloseReason.SERVER_GONE);
        }
        state = State.CLOSED;
        endAfterServerLost();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State before = state;
        state = State.CLOSED;
        early.forEach(ReferenceCountUtil::release);
        early.clear();
        countBytes();
        if (before == State.CHECKOUT) {
            checkout.cancel(); // the pool then serves the next waiter; one already on its way comes back
        } else if (before == State.RELAY) {
            releaseServer();
        } // in SETUP, settingsApplied releases the server once pgmux's own query is answered
        if (pool != null) {
            client.runtime().pools().leave(pool);
        }
        client.released();
        ctx.fireChannelInactive();
    }

    /** Gives the server back clean, or closes it if the client left anything open on it. */
    private void releaseServer() {
        server = null;
        ServerConnection held = client.detach();
        if (held == null) {
            return;
        }
        if (!sequence.quiet()) {
            // The client left while its statement ran: cancel it upstream, so its locks go now.
            log.debug("{}: cancelling and closing {}: the client left mid-statement", client, held);
            pool.abandon(held);
            return;
        }
        if (held.transactionStatus() != ReadyForQuery.IDLE.status() || !held.isActive()) {
            log.debug("{}: closing {} left mid-transaction", client, held);
            pool.discard(held, CloseReason.CLIENT_LEFT_DIRTY);
            return;
        }
        String reset = client.tenant().config().serverResetQuery();
        if (reset.isBlank()) {
            forgetStatements(held, false);
            pool.release(held);
            return;
        }
        ServerQuery.run(held, reset, held.channel().eventLoop()).addListener(f -> {
            if (f.isSuccess() && f.getNow() == null && held.transactionStatus() == ReadyForQuery.IDLE.status()) {
                held.session().settingsReset();
                forgetStatements(held, dropsStatements(reset));
                pool.release(held);
            } else {
                pool.discard(held, CloseReason.RESET_FAILED);
            }
        });
    }


    /**
     * The shared statements transaction-mode clients prepared on this server may be gone: a session client
     * could deallocate them (DISCARD ALL, DEALLOCATE ALL), and a reset query that drops statements did. Where
     * the reset dropped them all, the server's record is emptied; otherwise a server with such statements is
     * closed when it comes back rather than trusted (see ServerSession#statementsAlteredByClient).
     */
    private static void forgetStatements(ServerConnection held, boolean resetDroppedThem) {
        var statements = held.session().existingStatements();
        if (statements == null || statements.size() == 0) {
            return;
        }
        if (resetDroppedThem) {
            statements.clear();
        } else {
            held.session().statementsAlteredByClient();
        }
    }

    /** Whether a reset query ends with every prepared statement dropped (DISCARD ALL or DEALLOCATE ALL last). */
    static boolean dropsStatements(String reset) {
        String last = reset.strip().toUpperCase(java.util.Locale.ROOT).replaceAll("[;\\s]+$", "");
        return last.endsWith("DISCARD ALL") || last.endsWith("DEALLOCATE ALL") || last.endsWith("DEALLOCATE PREPARE ALL");
    }

    @Override
    protected void flushToServer() {
        ServerConnection relaying = relayingServer();
        if (relaying != null) {
            relaying.flush();
        }
    }

    @Override
    protected ServerConnection relayingServer() {
        return state == State.RELAY ? server : null;
    }
}
