package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.proxy.net.MessageWriter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.util.concurrent.Future;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An authenticated connection to a Postgres server, owned by one pool. It knows what it was told by the
 * server: the run-time parameters reported by ParameterStatus, its BackendKeyData, and the transaction
 * status of the last ReadyForQuery. At most one {@link ServerListener} is attached at a time.
 */
public final class ServerConnection {
    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final Channel channel;
    private final ServerTarget target;
    private final long createdNanos = System.nanoTime();
    private final ServerSession session = new ServerSession();
    private volatile BackendKeyData backendKey;
    private volatile byte transactionStatus = ReadyForQuery.IDLE.status();
    private volatile ServerListener listener;
    private volatile long idleSinceNanos = createdNanos;
    private volatile Consumer<ServerConnection> onClose;
    /** Looked up once; the same from any thread, so a race only looks it up twice. */
    private ChannelOutboundInvoker outbound;

    ServerConnection(Channel channel, ServerTarget target) {
        this.channel = channel;
        this.target = target;
    }

    public long id() {
        return id;
    }

    public Channel channel() {
        return channel;
    }

    public ServerTarget target() {
        return target;
    }

    public boolean isActive() {
        return channel.isActive();
    }

    /** The parameters the server reported (server_version, TimeZone, ...), as last reported. */
    public Map<String, String> parameters() {
        return session.reportedParameters();
    }

    /** What pgmux knows of this server's settings and prepared statements. */
    public ServerSession session() {
        return session;
    }

    void parameterReported(String name, String value) {
        session.reported(name, value);
    }

    public BackendKeyData backendKey() {
        return backendKey;
    }

    void backendKey(BackendKeyData key) {
        this.backendKey = key;
    }

    /** 'I', 'T' or 'E' from the last ReadyForQuery. */
    public byte transactionStatus() {
        return transactionStatus;
    }

    void transactionStatus(byte status) {
        this.transactionStatus = status;
    }

    public long ageNanos(long now) {
        return now - createdNanos;
    }

    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    public void markIdle(long now) {
        idleSinceNanos = now;
    }

    public ServerListener listener() {
        return listener;
    }

    /** Attaches a listener, or detaches with null. Frames that arrive while detached are unexpected. */
    public void attach(ServerListener listener) {
        this.listener = listener;
    }

    /** Called once when the channel closes (the pool uses it to forget this server). */
    public void onClose(Consumer<ServerConnection> onClose) {
        this.onClose = onClose;
    }

    void closed() {
        Consumer<ServerConnection> callback = onClose;
        if (callback != null) {
            callback.accept(this);
        }
    }

    /** Where writes to this server enter its pipeline ({@link MessageWriter#entry}). */
    public ChannelOutboundInvoker outbound() {
        ChannelOutboundInvoker entry = outbound;
        if (entry == null) {
            entry = MessageWriter.entry(channel);
            outbound = entry;
        }
        return entry;
    }

    public void write(ByteBuf frame) {
        outbound().write(frame, channel.voidPromise());
    }

    public void flush() {
        outbound().flush();
    }

    public void writeAndFlush(ByteBuf frame) {
        outbound().writeAndFlush(frame, channel.voidPromise());
    }

    public void setAutoRead(boolean autoRead) {
        if (channel.config().isAutoRead() != autoRead) {
            channel.config().setAutoRead(autoRead);
        }
    }

    public Future<Void> close() {
        ChannelFuture future = channel.close();
        return future;
    }

    @Override
    public String toString() {
        return "server#" + id + "[" + target.key() + (backendKey == null ? "" : " pid=" + backendKey.processId()) + "]";
    }
}
