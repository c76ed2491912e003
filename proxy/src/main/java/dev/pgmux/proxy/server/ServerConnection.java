package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.net.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.util.concurrent.Future;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A connection to a Postgres server, owned by one pool. It knows what it was told by the server: the
 * run-time parameters reported by ParameterStatus, its BackendKeyData, and the transaction status of the
 * last ReadyForQuery. At most one {@link ServerListener} is attached at a time.
 *
 * <p>Its lifecycle {@link State} is changed by its pool alone, under the pool's lock; the pool's counts
 * follow from these states. Every close records a {@link CloseReason}.
 */
public final class ServerConnection {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** How often the kernel is asked whether the server is still there (see {@link #watchPeer}). */
    private static final long PEER_CHECK_MILLIS = 1000;

    /**
     * <pre>
     *   CONNECTING -> IDLE | IN_USE | CLOSING | CLOSED    (CLOSING: connected, but no longer wanted)
     *   IDLE       -> IN_USE | CLOSING | CLOSED
     *   IN_USE     -> IDLE | CANCELLING | CLOSING | CLOSED
     *   CANCELLING -> IDLE | IN_USE | CLOSING | CLOSED    (released while a cancel to it was in flight)
     *   CLOSING    -> CLOSED
     * </pre>
     */
    public enum State {
        CONNECTING, IDLE, IN_USE, CANCELLING, CLOSING, CLOSED;

        /** Whether the pool may move a server from this state to {@code next}. */
        public boolean canMoveTo(State next) {
            return switch (this) {
                case CONNECTING -> next != CONNECTING && next != CANCELLING;
                case IDLE -> next == IN_USE || next == CLOSING || next == CLOSED;
                case IN_USE -> next != CONNECTING && next != IN_USE;
                case CANCELLING -> next != CONNECTING && next != CANCELLING;
                case CLOSING -> next == CLOSED;
                case CLOSED -> false;
            };
        }
    }

    private final long id = IDS.incrementAndGet();
    private Channel channel;
    private final ServerTarget target;
    private final long createdNanos = System.nanoTime();
    private final long createdAtMillis = System.currentTimeMillis();
    /** When a client last attached it or gave it back (nanoTime); plain: the admin views may read it late. */
    private long lastUsedNanos = createdNanos;
    private final ServerSession session = new ServerSession();
    private volatile BackendKeyData backendKey;
    private volatile byte transactionStatus = ReadyForQuery.IDLE.status();
    private volatile ServerListener listener;
    private volatile boolean hangingUp;
    private volatile long idleSinceNanos = createdNanos;
    private volatile Consumer<ServerConnection> onClose;
    /** Looked up once; the same from any thread, so a race only looks it up twice. */
    private ChannelOutboundInvoker outbound;
    // Changed under the owning pool's lock; volatile so that the server's own loop can tell a closing server.
    private volatile State state = State.CONNECTING;
    private CloseReason closeReason;
    private int cancelsInFlight;
    /** The last check found the server gone; on the channel's event loop only. */
    private boolean peerSeenGone;

    public ServerConnection(ServerTarget target) {
        this.target = target;
    }

    /**
     * The channel it was given when its connect started (see {@link ServerConnector#connect}); given again
     * when the login is tried a second time on a new connection (sslmode {@code allow} or {@code prefer}).
     */
    void bind(Channel channel) {
        this.channel = channel;
    }

    /** The lifecycle state; read it under the pool's lock for a consistent view. */
    public State state() {
        return state;
    }

    /** For the owning pool only, under its lock, after checking {@link State#canMoveTo}. */
    public void state(State next) {
        this.state = next;
    }

    /** Why it closed (or is closing); null while it is open. */
    public CloseReason closeReason() {
        return closeReason;
    }

    /** Records the first reason only: later ones describe the consequences, not the cause. */
    public void closeReason(CloseReason reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
    }

    /** Cancel requests sent to this server whose connections have not closed yet. Pool's lock. */
    public int cancelsInFlight() {
        return cancelsInFlight;
    }

    public void cancelsInFlight(int count) {
        this.cancelsInFlight = count;
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

    /** Open, and not hanging up: a server that sent a FATAL error is never handed out or taken back. */
    public boolean isActive() {
        Channel ch = channel;
        return !hangingUp && ch != null && ch.isActive();
    }

    /**
     * The server sent a FATAL error and closes next. Its close reaches its pool later (the FATAL itself may reach
     * the client first, which may then log in again at once): until then the pool must not reuse it.
     */
    void hangingUp() {
        hangingUp = true;
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

    /** When its connect started, in epoch milliseconds. */
    public long connectedAtMillis() {
        return createdAtMillis;
    }

    /** When a client last took it or gave it back, in epoch milliseconds. */
    public long lastUsedAtMillis() {
        return System.currentTimeMillis() - (System.nanoTime() - lastUsedNanos) / 1_000_000;
    }

    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    public void markIdle(long now) {
        idleSinceNanos = now;
        lastUsedNanos = now;
    }

    public ServerListener listener() {
        return listener;
    }

    /** Attaches a listener, or detaches with null. Frames that arrive while detached are unexpected. */
    public void attach(ServerListener listener) {
        this.listener = listener;
        if (listener != null) {
            lastUsedNanos = System.nanoTime();
        }
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

    /**
     * io_uring can miss the end of a connection for good: when a reset comes with bytes still queued (as on a
     * server paused for a slow client), it reads the bytes but not the error behind them, then waits for a
     * readiness event that already came, and whoever is attached would wait for ever. So the kernel's TCP
     * state is checked every second on the channel's event loop; a server found gone twice in a row (the
     * transport had a whole interval to notice) is closed, which tells whoever is attached and the pool.
     */
    void watchPeer() {
        Channel watched = channel; // a login tried again (sslmode allow, prefer) binds another channel
        if (Transport.knowsPeerState(watched)) {
            watched.eventLoop().schedule(() -> checkPeer(watched), PEER_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void checkPeer(Channel watched) {
        if (!watched.isActive()) {
            return;
        }
        boolean gone = Transport.peerGone(watched);
        if (gone && peerSeenGone) {
            log.info("{}: the server is gone but its connection did not report it; closing it", this);
            watched.close();
            return;
        }
        peerSeenGone = gone;
        watched.eventLoop().schedule(() -> checkPeer(watched), PEER_CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Ends the connection as a client should: Terminate, then close. */
    public Future<Void> close() {
        if (channel.isActive()) {
            writeAndFlush(channel.alloc().ioBuffer(5, 5).writeByte('X').writeInt(4));
        }
        return channel.close();
    }

    @Override
    public String toString() {
        return "server#" + id + "[" + target.key() + (backendKey == null ? "" : " pid=" + backendKey.processId()) + "]";
    }
}
