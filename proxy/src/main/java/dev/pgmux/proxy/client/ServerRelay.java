package dev.pgmux.proxy.client;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.proxy.metrics.PoolTraffic;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerListener;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both pooling modes do while a client and a server exchange messages: flush once per read batch
 * on either side, pause whichever side the other cannot keep up with, and end the client on errors.
 * Subclasses say which server, if any, messages currently flow with.
 */
public abstract class ServerRelay extends ChannelInboundHandlerAdapter implements ServerListener {
    private final Logger log = LoggerFactory.getLogger(getClass());
    protected final ClientConnection client;
    protected ChannelHandlerContext ctx;
    private EventLoop eventLoop;
    /** Every server message bound for the client goes through here, in order. */
    protected MessageWriter out;
    /** The server sent a FATAL error: it is about to hang up, and the client has been told why. */
    private boolean fatalFromServer;
    // What the client's traffic adds to its pool's meters, kept here (this event loop only) and handed over
    // at each ReadyForQuery, so that a reply of many rows costs one counter update, not one per row.
    /** When the request now in flight was read (nanoTime), or 0 when none is. */
    private long requestStartNanos;
    /** When the current transaction's first request was read, or 0 outside a transaction. */
    private long transactionStartNanos;
    /** The last ReadyForQuery: pipelined requests end one after another from there. */
    private long lastReadyNanos;
    private long receivedBytes;
    private long sentBytes;

    protected ServerRelay(ClientConnection client) {
        this.client = client;
    }

    /** The server messages are relayed with right now, or null. */
    protected abstract ServerConnection relayingServer();

    /** Relays pass what goes on unchanged to {@link #out}; each mode says what it must look at first. */
    @Override
    public abstract void onServerMessage(ServerConnection from, ByteBuf batch, int index, int length);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.eventLoop = ctx.channel().eventLoop();
        this.out = new MessageWriter(MessageWriter.entry(ctx.channel()), ctx.alloc());
        // The login's last messages (SASLFinal, AuthenticationOk) are written, not flushed: they go out with
        // the welcome if it comes at once, else at the end of this read, while the client waits for a server.
        out.writtenElsewhere();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushToServer();
        out.flush();
        ctx.fireChannelReadComplete();
    }

    /** Sends on what the client's read passed to the server, if anything. */
    protected abstract void flushToServer();

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // The client cannot take more: stop reading from its server until it can.
        ServerConnection server = relayingServer();
        if (server != null) {
            server.setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public EventLoop eventLoop() {
        return eventLoop;
    }

    /** Reads from the client on or off; a no-op (no atomic write) when they already are. */
    protected final void clientReads(boolean on) {
        if (ctx.channel().config().isAutoRead() != on) {
            ctx.channel().config().setAutoRead(on);
        }
    }

    /** A lone frame (a server on another event loop hands them over one by one) is a batch of one message. */
    @Override
    public void onServerFrame(ServerConnection from, ByteBuf frame) {
        try {
            onServerMessage(from, frame, frame.readerIndex(), frame.readableBytes());
            out.emit();
        } finally {
            frame.release();
        }
    }

    @Override
    public void onServerBatchEnd(ServerConnection from) {
        out.emit();
    }

    @Override
    public void onServerReadComplete(ServerConnection from) {
        out.flush();
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection from, boolean writable) {
        if (relayingServer() != null) {
            clientReads(writable);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        client.failed(cause, log);
    }

    /**
     * The client sent {@code bytes} of messages that go to a server: a request starts now unless one is in
     * flight already.
     */
    protected final void requestRead(int bytes) {
        receivedBytes += bytes;
        if (requestStartNanos == 0) {
            long now = System.nanoTime();
            requestStartNanos = now;
            if (transactionStartNanos == 0) {
                transactionStartNanos = now;
            }
            client.requested(now);
        }
    }

    /** A server message of {@code bytes} went on to the client. */
    protected final void relayed(int bytes) {
        sentBytes += bytes;
    }

    /**
     * The server ended a request with ReadyForQuery: one query, and with status 'I' the end of a transaction
     * (or of a statement outside one), counted in the client's pool.
     */
    protected final void readyForQuery(byte status) {
        long now = System.nanoTime();
        PoolTraffic traffic = client.traffic();
        long start = requestStartNanos != 0 ? requestStartNanos : lastReadyNanos;
        if (start != 0) {
            traffic.queryEnded(now - start);
        }
        requestStartNanos = 0;
        lastReadyNanos = now;
        if (status == 'I' && transactionStartNanos != 0) {
            traffic.transactionEnded(now - transactionStartNanos);
            transactionStartNanos = 0;
        }
        countBytes();
    }

    /** Hands the bytes counted so far to the pool's meters (at each ReadyForQuery, and when the client goes). */
    protected final void countBytes() {
        PoolTraffic traffic = client.traffic();
        if (receivedBytes != 0) {
            traffic.received(receivedBytes);
            receivedBytes = 0;
        }
        if (sentBytes != 0) {
            traffic.sent(sentBytes);
            sentBytes = 0;
        }
    }

    /** Notes a server error on its way to the client: a FATAL one is the server's last word before it hangs up. */
    protected final void noteServerError(ByteBuf batch, int index, int length) {
        ErrorResponse error = (ErrorResponse) BackendCodec.decode(batch.slice(index, length));
        client.traffic().error(error.code());
        if (!fatalFromServer) {
            fatalFromServer = error.isFatal();
        }
    }

    /**
     * Ends the client after its server's connection was lost: the server's own FATAL error, if it sent one, is
     * what the client hears (it has been relayed); otherwise pgmux says the server closed the connection.
     */
    protected final void endAfterServerLost() {
        client.serverLost();
        if (fatalFromServer) {
            out.flush();
            ctx.close();
        } else {
            client.fatal(SqlState.CONNECTION_FAILURE, "server closed the connection unexpectedly");
        }
    }

    /**
     * A message type no client may send after login is refused by pgmux, in Postgres' own words, rather than
     * passed to a server that would hang up on it with the client's later messages unread: the kernel then
     * resets that connection, the server's last words are lost, and the client would only learn of a lost
     * server.
     */
    protected static void requireFrontendMessage(byte tag) {
        switch (tag) {
            case 'B', 'C', 'D', 'E', 'F', 'H', 'P', 'Q', 'S', 'X', 'c', 'd', 'f' -> { }
            default -> throw new dev.pgmux.protocol.frame.ProtocolException("invalid frontend message type " + tag);
        }
    }

    /**
     * Runs work that reaches this client from outside its pipeline (the pool handing over a server, a
     * server's message, pgmux's own query completing): what it throws, such as a malformed message of the
     * client's that waited for a server, ends this client as it would in its own pipeline (08P01 and a
     * close, its server given back as the client leaves), never the pool or the server that called.
     */
    protected final void guarded(Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            client.failed(e, log);
        }
    }
}
