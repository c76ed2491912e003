package dev.pgmux.proxy.pool;

import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.metrics.PoolMetrics;
import dev.pgmux.proxy.server.CloseReason;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerConnection.State;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.server.ServerTarget;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The servers of one (tenant, database, user), at most {@code maxSize}. Clients that find no idle server
 * wait in FIFO order up to the checkout timeout; nothing ever blocks a thread. An idle server on the
 * caller's own event loop is preferred, so client and server usually share a thread.
 *
 * <p>Every server the pool has opened is in one {@link State}, changed only here, under the pool's lock, by
 * {@link #move}; the counts are kept per state by that one method, so they cannot drift from the states. A
 * release or discard of a server that is not in use is refused (and logged as the bug it is); one of a
 * server that has closed meanwhile is a no-op. A server counts against {@code maxSize} from the start of
 * its connect until its channel has closed.
 */
public final class ServerPool {
    private static final Logger log = LoggerFactory.getLogger(ServerPool.class);
    private static final int SAME_LOOP_LOOKAHEAD = 4;

    /** How a pool is sized and timed; taken from the tenant's configuration. */
    public record Settings(int maxSize, int minIdle, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime) {}

    /** Where new servers log in; a reload may change it (under the lock), and older servers then close. */
    private volatile ServerTarget target;
    private final ServerConnector connector;
    private final EventLoopGroup loops;
    private final UpstreamOutages outages;
    private final PoolMetrics metrics;
    private volatile Settings settings;

    // Guarded by this.
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Every server not yet closed, in any state: what the admin views list. */
    private final Set<ServerConnection> servers = new LinkedHashSet<>();
    private final int[] counts = new int[State.values().length];
    private boolean closed;
    /** A reload removed its tenant, user or database: it closes once its last client has left. */
    private boolean retired;
    /** One pending timer at most: it fires for the head waiter's deadline and re-arms itself. */
    private boolean timerArmed;
    /** When the pool last lost a server or a client (nanoTime): its idle time before removal counts from there. */
    private long lastUsedNanos = System.nanoTime();
    private long checkouts;
    /** Clients connected through this pool, holding a server or not. */
    private int clients;
    /** The last connect or login failed, and none succeeded since. */
    private boolean lastConnectFailed;
    /** PAUSE or KILL: checkouts wait, no server is opened, released servers close (see {@link PoolAdmin}). */
    private volatile boolean paused;
    /**
     * Servers this instance may hold for the pool by its lease in the metadata database ({@code SlotLeases}):
     * with several instances, pool_size is the whole cluster's. Unlimited (by this) without one.
     */
    private int clusterLimit = Integer.MAX_VALUE;
    /** Told when a waiter finds the pool at its cluster limit, so that the lease grows sooner. */
    private volatile Runnable onShortOfSlots = () -> {};
    /** RECONNECT: these servers close as soon as nobody uses them. */
    private final Set<ServerConnection> closeNeeded = new java.util.HashSet<>();

    public ServerPool(ServerTarget target, Settings settings, ServerConnector connector, EventLoopGroup loops,
                      UpstreamOutages outages, Metrics processMetrics) {
        this.target = target;
        this.settings = settings;
        this.connector = connector;
        this.loops = loops;
        this.outages = outages;
        this.metrics = processMetrics.forPool(this);
    }

    /** This pool's meters; its clients record their traffic there. */
    public PoolMetrics metrics() {
        return metrics;
    }

    public PoolKey key() {
        return target.key();
    }

    public ServerTarget target() {
        return target;
    }

    public Settings settings() {
        return settings;
    }

    /** Told, on the event loop it named, how its checkout ended; exactly one of the two is called. */
    public interface CheckoutListener {
        /** A server for the caller, who gives it back with {@link #release} or {@link #discard}. */
        void checkedOut(ServerConnection server);

        void checkoutFailed(Throwable cause);
    }

    /** A checkout that may still be waiting: {@link #cancel} it when the caller goes away. */
    public final class Waiter {
        final CheckoutListener listener;
        final EventLoop loop;
        final long deadline;
        final long sinceNanos = System.nanoTime();
        /** Times a later waiter went first (see nextWaiterFor); bounded so the head never starves. */
        int passedOver;

        Waiter(CheckoutListener listener, EventLoop loop, long deadline) {
            this.listener = listener;
            this.loop = loop;
            this.deadline = deadline;
        }

        /**
         * Leaves the queue, so the caller neither gets a server nor counts as demand. Whoever takes a waiter
         * out of the queue (under the pool's lock) owns its outcome: a server already on its way is still
         * delivered, and the listener must give it back.
         */
        public void cancel() {
            synchronized (ServerPool.this) {
                waiters.remove(this);
                used();
            }
        }

        void served(ServerConnection server) {
            if (loop.inEventLoop() && DELIVERY_DEPTH.get()[0] < MAX_DELIVERY_DEPTH) {
                int[] depth = DELIVERY_DEPTH.get();
                depth[0]++;
                try {
                    deliver(server);
                } finally {
                    depth[0]--;
                }
            } else {
                loop.execute(() -> deliver(server));
            }
        }

        /** A listener that throws has not taken the server: it goes back, closed, rather than stay pinned. */
        private void deliver(ServerConnection server) {
            try {
                listener.checkedOut(server);
            } catch (RuntimeException e) {
                log.error("pool {}: a checkout listener failed; closing {}", target.key(), server, e);
                discard(server, CloseReason.PROTOCOL_ERROR);
            }
        }

        void failed(Throwable cause) {
            if (loop.inEventLoop()) {
                notifyFailed(cause);
            } else {
                loop.execute(() -> notifyFailed(cause));
            }
        }

        private void notifyFailed(Throwable cause) {
            try {
                listener.checkoutFailed(cause);
            } catch (RuntimeException e) {
                log.error("pool {}: a checkout listener failed", target.key(), e);
            }
        }
    }

    /**
     * A server released on a waiter's own loop goes to it on the same stack, with no task in between; a
     * chain of such hand-offs (each new holder releasing at once) goes through the loop's queue past
     * this depth instead of growing the stack.
     */
    private static final int MAX_DELIVERY_DEPTH = 8;
    private static final FastThreadLocal<int[]> DELIVERY_DEPTH = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };

    /**
     * An idle server right now, or null (then {@link #acquire} queues the caller). Allocates nothing on
     * the hot path; never jumps the queue, since servers go to waiters before they go idle.
     */
    public ServerConnection tryAcquireIdle(EventLoop loop) {
        synchronized (this) {
            if (closed || paused) {
                return null;
            }
            ServerConnection server = takeIdle(loop);
            if (server != null) {
                move(server, State.IN_USE);
                checkouts++;
            }
            return server;
        }
    }

    /**
     * Gets a server for a caller whose channel runs on {@code loop}; the listener hears on that loop, and
     * may hear before this returns when an idle server is at hand.
     */
    public Waiter acquire(EventLoop loop, CheckoutListener listener) {
        Waiter waiter = new Waiter(listener, loop, System.nanoTime() + settings.checkoutTimeout().toNanos());
        ServerConnection ready = null;
        ServerConnection connect = null;
        boolean tellShortOfSlots = false;
        boolean poolClosed;
        synchronized (this) {
            poolClosed = closed;
            if (!poolClosed) {
                ready = paused ? null : takeIdle(loop);
                if (ready == null) {
                    // Every waiter of a pool has the same timeout, so deadlines are in queue order: one timer
                    // for the head serves them all, instead of a scheduled task per waiter.
                    waiters.addLast(waiter);
                    if (!timerArmed) {
                        armTimer(waiter);
                    }
                    connect = reserveConnect();
                    tellShortOfSlots = shortOfSlots;
                    shortOfSlots = false;
                } else {
                    move(ready, State.IN_USE);
                    checkouts++;
                }
            }
        }
        if (poolClosed) {
            waiter.failed(CheckoutException.closed(target.key()));
        } else if (ready != null) {
            waiter.served(ready);
        } else if (connect != null) {
            startConnect(loop, connect);
        } else if (tellShortOfSlots) {
            onShortOfSlots.run();
        }
        return waiter;
    }

    /**
     * Returns a server after use. The caller has made sure it is idle, reset and not mid-protocol. A
     * server with a cancel still on its way waits in {@link State#CANCELLING} until that cancel can no
     * longer reach it.
     */
    public void release(ServerConnection server) {
        long now = System.nanoTime();
        Duration maxLifetime = settings.maxLifetime();
        CloseReason closeInstead = null;
        if (!maxLifetime.isZero() && server.ageNanos(now) > maxLifetime.toNanos()) {
            closeInstead = CloseReason.MAX_LIFETIME;
        } else if (server.session().isStatementsAlteredByClient()) {
            log.debug("pool {}: closing a server on which a client prepared or deallocated one of pgmux's statement names", target.key());
            closeInstead = CloseReason.STATEMENTS_ALTERED;
        } else if (!server.isActive()) {
            closeInstead = CloseReason.SERVER_GONE;
        } else if (mustCloseOnRelease(server)) {
            closeInstead = CloseReason.ADMIN_COMMAND;
        }
        if (closeInstead != null) {
            discard(server, closeInstead);
            return;
        }
        synchronized (this) {
            if (!expect(server, "release", State.IN_USE, State.IN_USE)) {
                return;
            }
            server.attach(null);
            server.setAutoRead(true); // a slow client may have paused it; idle servers must see their close
            server.markIdle(now);
            if (server.cancelsInFlight() > 0) {
                move(server, State.CANCELLING);
                return;
            }
        }
        offer(server);
    }

    /** Closes a server that must not be reused (broken, mid-transaction, expired), for {@code reason}. */
    public void discard(ServerConnection server, CloseReason reason) {
        synchronized (this) {
            if (!expect(server, "discard", State.IN_USE, State.CANCELLING)) {
                return;
            }
            server.closeReason(reason);
            move(server, State.CLOSING);
        }
        server.attach(null);
        server.close();
    }

    /**
     * The client using this server vanished, maybe while its statement runs: the statement is cancelled
     * upstream first (so the locks it holds are freed now rather than when it ends), then the server closes.
     */
    public void abandon(ServerConnection server) {
        synchronized (this) {
            if (!expect(server, "abandon", State.IN_USE, State.CANCELLING)) {
                return;
            }
            server.closeReason(CloseReason.CLIENT_GONE);
            move(server, State.CLOSING);
        }
        server.attach(null);
        var key = server.backendKey();
        if (key == null || !server.isActive()) {
            server.close();
            return;
        }
        connector.cancel(server.channel().eventLoop(), server.target(), key.processId(), key.secretKey())
                .addListener(f -> server.close());
    }

    /**
     * Sends a CancelRequest for what {@code server} runs, if it is still in use and {@code stillAttached}
     * (checked under the pool's lock, so that a server released meanwhile is never cancelled). Until the
     * cancel's connection closes, a release parks the server in {@link State#CANCELLING}.
     *
     * @return whether a cancel was sent
     */
    public boolean cancel(ServerConnection server, BooleanSupplier stillAttached) {
        var key = server.backendKey();
        if (key == null) {
            return false;
        }
        synchronized (this) {
            if (server.state() != State.IN_USE || !stillAttached.getAsBoolean()) {
                return false;
            }
            server.cancelsInFlight(server.cancelsInFlight() + 1);
        }
        connector.cancel(server.channel().eventLoop(), server.target(), key.processId(), key.secretKey())
                .addListener(f -> cancelDone(server));
        return true;
    }

    private void cancelDone(ServerConnection server) {
        synchronized (this) {
            server.cancelsInFlight(server.cancelsInFlight() - 1);
            if (server.state() != State.CANCELLING || server.cancelsInFlight() > 0) {
                return;
            }
        }
        offer(server);
    }

    /**
     * Under the lock: whether {@code server} is in one of the states an operation expects. A server that
     * closed meanwhile is no surprise (its channel closed on its own loop); any other state is a bug of
     * the caller's, logged, and the operation is refused rather than corrupt the counts.
     */
    private boolean expect(ServerConnection server, String operation, State allowed, State alsoAllowed) {
        State state = server.state();
        if (state == allowed || state == alsoAllowed) {
            return true;
        }
        if (state != State.CLOSED && state != State.CLOSING) {
            log.error("pool {}: {} of {} in state {} refused (a bug: it is not in use)", target.key(), operation, server, state,
                    new IllegalStateException(operation + " in state " + state));
        }
        return false;
    }

    /** Under the lock: the one way a server changes state; the counts follow. */
    private void move(ServerConnection server, State next) {
        State current = server.state();
        if (!current.canMoveTo(next)) {
            throw new IllegalStateException(server + ": " + current + " -> " + next);
        }
        counts[current.ordinal()]--;
        counts[next.ordinal()]++;
        server.state(next);
        if (next == State.IDLE) {
            idle.addFirst(server);
        } else if (current == State.IDLE) {
            idle.remove(server);
        }
        if (current == State.CONNECTING && next != State.CLOSED) {
            metrics.serverConnected();
        }
        if (next == State.CLOSED) {
            if (current == State.CONNECTING) {
                metrics.serverConnectFailed();
            }
            metrics.serverClosed(server.closeReason());
            servers.remove(server);
            closeNeeded.remove(server);
            used(); // the pool may have become unused: its idle time counts from here
        }
    }

    /**
     * Straight to the next waiter, or idle: servers go to waiters before they go idle, so nobody jumps the
     * queue. A closed pool closes the server instead, and so does a pool that a reload made smaller or moved
     * to another upstream (see {@link #unwanted}).
     */
    private void offer(ServerConnection server) {
        Waiter waiter;
        synchronized (this) {
            if (server.state() == State.CLOSED || server.state() == State.CLOSING) {
                return;
            }
            CloseReason unwanted = closed ? CloseReason.POOL_CLOSED
                    : paused || closeNeeded.contains(server) ? CloseReason.ADMIN_COMMAND : unwanted(server);
            if (unwanted != null) {
                server.closeReason(unwanted);
                move(server, State.CLOSING);
                waiter = null;
            } else {
                waiter = nextWaiterFor(server);
                if (waiter == null) {
                    move(server, State.IDLE);
                    return;
                }
                if (server.state() != State.IN_USE) {
                    move(server, State.IN_USE); // a released server goes from one client to the next as it is
                }
                checkouts++;
            }
        }
        if (waiter != null) {
            waiter.served(server);
        } else {
            server.close();
        }
    }

    /**
     * Under the lock: why a server coming back (released, or just connected) must close instead of serving
     * again, after a reload: it is logged in to an upstream or with credentials the pool no longer uses, or
     * the pool has more servers than its size, not counting those already closing (else several would close
     * for one too many). Null otherwise (one reference comparison, usually).
     */
    private CloseReason unwanted(ServerConnection server) {
        ServerTarget current = target;
        if (server.target() != current && !server.target().sameServerAs(current)) {
            return CloseReason.UPSTREAM_CHANGED;
        }
        return open() - counts[State.CLOSING.ordinal()] > maxOpen() ? CloseReason.POOL_SHRUNK : null;
    }

    /**
     * Under the lock: the waiter to serve with {@code server}. Strict FIFO would often hand a server to a
     * client on another event loop, and then every message of that transaction hops threads; so a waiter
     * on the server's own loop among the first few may go first. The head waits at most a few turns.
     */
    private Waiter nextWaiterFor(ServerConnection server) {
        Waiter head = waiters.peekFirst();
        EventLoop loop = server.channel().eventLoop();
        if (head == null || head.loop == loop || head.passedOver >= SAME_LOOP_LOOKAHEAD) {
            return waiters.pollFirst();
        }
        int looked = 0;
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext() && looked < SAME_LOOP_LOOKAHEAD; looked++) {
            Waiter waiter = it.next();
            if (waiter.loop == loop) {
                it.remove();
                head.passedOver++;
                return waiter;
            }
        }
        return waiters.pollFirst();
    }

    /** Under the lock: an idle server for {@code loop}, out of the idle list (its state is still IDLE). */
    private ServerConnection takeIdle(EventLoop loop) {
        ServerConnection first = idle.peekFirst();
        if (first == null) {
            return null; // the common case under load
        }
        if (first.channel().eventLoop() == loop && first.isActive()) {
            return first;
        }
        ServerConnection fallback = null;
        for (ServerConnection server : idle) {
            if (!server.isActive()) {
                continue; // its close callback removes it
            }
            if (server.channel().eventLoop() == loop) {
                return server;
            }
            if (fallback == null) {
                fallback = server;
            }
        }
        return fallback;
    }

    /** Under the lock: a new server in CONNECTING if another connect should start for the waiters, else null. */
    private ServerConnection reserveConnect() {
        if (!closed && !paused && counts[State.CONNECTING.ordinal()] < waiters.size()) {
            if (open() < maxOpen()) {
                return newServer();
            }
            if (clusterLimit < settings.maxSize()) {
                shortOfSlots = true;
            }
        }
        return null;
    }

    /** Under the lock: servers the pool may hold now, by its size and by its share of the cluster's. */
    private int maxOpen() {
        return Math.min(settings.maxSize(), clusterLimit);
    }

    /** Set under the lock when a waiter found the pool at its cluster limit; acquire tells the lease holder. */
    private boolean shortOfSlots;

    /** Under the lock: a server in CONNECTING, counted from now on. */
    private ServerConnection newServer() {
        ServerConnection server = new ServerConnection(target);
        counts[State.CONNECTING.ordinal()]++;
        servers.add(server);
        return server;
    }

    /** Under the lock: servers that hold (or are about to hold) a connection to Postgres. */
    private int open() {
        return servers.size();
    }

    private void startConnect(EventLoop loop, ServerConnection server) {
        connector.connect(loop, server).addListener((Future<ServerConnection> f) -> {
            if (f.isSuccess()) {
                outages.connected(server.target());
                synchronized (this) {
                    lastConnectFailed = false;
                }
                serverReported(server.parameters());
                server.onClose(this::closed);
                if (server.isActive()) {
                    offer(server);
                } else {
                    closed(server);
                }
            } else {
                connectFailed(server, f.cause());
            }
        });
    }

    private void connectFailed(ServerConnection server, Throwable cause) {
        Waiter failed;
        ServerConnection retry = null;
        EventLoop retryLoop = null;
        synchronized (this) {
            server.closeReason(CloseReason.LOGIN_FAILED);
            move(server, State.CLOSED);
            lastConnectFailed = true;
            failed = waiters.pollFirst();
            // Every waiter gets its own attempt and, if the upstream is down, its own fast error.
            retry = reserveConnect();
            if (retry != null) {
                retryLoop = waiters.peekFirst().loop;
            }
        }
        outages.connectFailed(server.target(), cause);
        if (failed != null) {
            failed.failed(cause);
        }
        if (retry != null) {
            startConnect(retryLoop, retry);
        }
    }

    /** The server's channel closed, whatever closed it. */
    private void closed(ServerConnection server) {
        ServerConnection connect = null;
        EventLoop connectLoop = null;
        synchronized (this) {
            if (server.state() == State.CLOSED) {
                return;
            }
            server.closeReason(CloseReason.SERVER_GONE);
            move(server, State.CLOSED);
            connect = reserveConnect();
            if (connect != null) {
                connectLoop = waiters.peekFirst().loop;
            }
        }
        if (connect != null) {
            startConnect(connectLoop, connect);
        }
    }

    /** Under the lock: runs {@link #expireWaiters} when the given (head) waiter's deadline passes. */
    private void armTimer(Waiter head) {
        timerArmed = true;
        long delay = Math.max(0, head.deadline - System.nanoTime());
        head.loop.schedule(this::expireWaiters, delay, TimeUnit.NANOSECONDS);
    }

    /** Fails every waiter whose deadline has passed, then re-arms the timer for the new head. */
    private void expireWaiters() {
        List<Waiter> expired = new ArrayList<>();
        long now = System.nanoTime();
        synchronized (this) {
            timerArmed = false;
            while (!waiters.isEmpty() && waiters.peekFirst().deadline - now <= 0) {
                expired.add(waiters.pollFirst());
            }
            if (!waiters.isEmpty()) {
                armTimer(waiters.peekFirst());
            }
        }
        long timeoutMillis = settings.checkoutTimeout().toMillis();
        for (Waiter waiter : expired) {
            waiter.failed(CheckoutException.timedOut(timeoutMillis));
        }
    }

    /**
     * Housekeeping, run periodically: closes servers idle longer than the idle timeout (keeping min_idle)
     * or older than their maximum lifetime, and opens servers up to min_idle.
     */
    public void maintain() {
        long now = System.nanoTime();
        Settings s = settings;
        List<ServerConnection> toClose = new ArrayList<>();
        List<ServerConnection> toOpen = new ArrayList<>();
        synchronized (this) {
            int keep = idle.size();
            for (ServerConnection server : new ArrayList<>(idle).reversed()) {
                boolean idleTooLong = !s.idleTimeout().isZero() && now - server.idleSinceNanos() > s.idleTimeout().toNanos()
                        && keep > s.minIdle();
                boolean tooOld = !s.maxLifetime().isZero() && server.ageNanos(now) > s.maxLifetime().toNanos();
                if (idleTooLong || tooOld) {
                    server.closeReason(tooOld ? CloseReason.MAX_LIFETIME : CloseReason.IDLE_TIMEOUT);
                    move(server, State.CLOSING);
                    toClose.add(server);
                    keep--;
                }
            }
            // A user known by its SCRAM verifier only: no server until a client's login gave pgmux the ClientKey.
            int missing = closed || paused || !target.canLogIn() ? 0 : Math.min(s.minIdle() - idle.size() - counts[State.CONNECTING.ordinal()],
                    maxOpen() - open());
            for (int i = 0; i < missing; i++) {
                toOpen.add(newServer());
            }
        }
        toClose.forEach(ServerConnection::close);
        for (ServerConnection server : toOpen) {
            startConnect(loops.next(), server);
        }
    }

    /**
     * Applies a reload: new sizes and timeouts, and where new servers log in. Idle servers beyond the new
     * size, or logged in to another upstream or with other credentials, close now (the longest idle first);
     * busy ones close as they come back ({@link #unwanted}); when the pool grew, waiting clients get their
     * connects now. Also ends a {@link #retire retirement}.
     */
    public void reconfigure(ServerTarget newTarget, Settings newSettings) {
        List<ServerConnection> toClose = new ArrayList<>();
        List<ServerConnection> toOpen = new ArrayList<>();
        List<EventLoop> openOn = new ArrayList<>();
        synchronized (this) {
            retired = false;
            if (closed || (newTarget.equals(target) && newSettings.equals(settings))) {
                return; // the usual case: maintenance checks every pool against the configuration each second
            }
            target = newTarget;
            settings = newSettings;
            int excess = open() - counts[State.CLOSING.ordinal()] - maxOpen();
            for (ServerConnection server : new ArrayList<>(idle).reversed()) {
                CloseReason reason = !server.target().sameServerAs(newTarget) ? CloseReason.UPSTREAM_CHANGED
                        : excess > 0 ? CloseReason.POOL_SHRUNK : null;
                if (reason != null) {
                    server.closeReason(reason);
                    move(server, State.CLOSING);
                    toClose.add(server);
                    excess--;
                }
            }
            Iterator<Waiter> waiting = waiters.iterator();
            for (ServerConnection server = reserveConnect(); server != null; server = reserveConnect()) {
                toOpen.add(server);
                openOn.add(waiting.hasNext() ? waiting.next().loop : loops.next());
            }
        }
        if (!toClose.isEmpty()) {
            log.debug("pool {}: reconfigured, closing {} idle server(s)", newTarget.key(), toClose.size());
        }
        toClose.forEach(ServerConnection::close);
        for (int i = 0; i < toOpen.size(); i++) {
            startConnect(openOn.get(i), toOpen.get(i));
        }
    }

    /**
     * A reload removed the pool's tenant, user or database: the pool goes on serving the clients it has, and
     * closes with its servers when the last of them has left, instead of after the idle timeout.
     */
    public synchronized void retire() {
        retired = true;
    }

    public synchronized boolean isRetired() {
        return retired;
    }

    /** Stops handing out servers, fails the waiters and closes the idle servers; busy ones close on release. */
    public void close() {
        List<ServerConnection> toClose = new ArrayList<>();
        List<Waiter> toFail;
        synchronized (this) {
            closed = true;
            for (ServerConnection server : new ArrayList<>(idle)) {
                server.closeReason(CloseReason.POOL_CLOSED);
                move(server, State.CLOSING);
                toClose.add(server);
            }
            toFail = new ArrayList<>(waiters);
            waiters.clear();
        }
        toClose.forEach(ServerConnection::close);
        for (Waiter waiter : toFail) {
            waiter.failed(CheckoutException.closed(target.key()));
        }
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    synchronized void clientJoined() {
        clients++;
        used();
    }

    synchronized void clientLeft() {
        clients--;
        used();
    }

    /** Clients connected through this pool, holding a server or not. */
    public synchronized int clients() {
        return clients;
    }

    /**
     * Closes the pool if nobody uses it (no client, no server, no waiter) and either its last connect
     * failed or it has been unused for the idle timeout; returns whether it did. A retired pool closes as
     * soon as it has no client and no waiter, whatever servers it still has.
     */
    synchronized boolean closeIfUnused(long now) {
        if (closed) {
            return true;
        }
        if (clients > 0 || !waiters.isEmpty()) {
            return false;
        }
        if (retired) {
            closed = true; // its remaining servers close with it (the registry calls close)
            return true;
        }
        if (!servers.isEmpty()) {
            return false;
        }
        if (lastConnectFailed || now - lastUsedNanos >= settings.idleTimeout().toNanos()) {
            closed = true;
            return true;
        }
        return false;
    }

    /** Under the lock: the pool had a client or a server just now. */
    private void used() {
        lastUsedNanos = System.nanoTime();
    }

    /** A consistent snapshot of the counters, for metrics, the admin console and tests. */
    public synchronized Stats stats() {
        return new Stats(open(), counts[State.CONNECTING.ordinal()], counts[State.IDLE.ordinal()],
                counts[State.IN_USE.ordinal()], waiters.size(), counts[State.CANCELLING.ordinal()],
                counts[State.CLOSING.ordinal()], checkouts);
    }

    /**
     * @param open       servers in any state but closed: what counts against the pool size
     * @param active     servers in use by a client (or by pgmux's own query for one)
     * @param cancelling servers released while a cancel to them was in flight
     * @param checkouts  servers handed out since the pool started
     */
    public record Stats(int open, int connecting, int idle, int active, int waiting, int cancelling, int closing,
                        long checkouts) {}

    /** How long the longest waiting client has waited for a server (0: none waits). */
    public synchronized long maxWaitNanos(long now) {
        Waiter head = waiters.peekFirst();
        return head == null ? 0 : now - head.sinceNanos;
    }

    /** The servers not yet closed, each with its state, in no particular order. */
    public synchronized List<ServerConnection> servers() {
        return List.copyOf(servers);
    }

    /**
     * What a login with some startup settings looked like on this pool's servers: the parameters to
     * report and the settings as the server normalised them. Lets transaction mode welcome the next
     * client with the same settings without checking out a server.
     */
    public record LoginTemplate(Map<String, String> parameters, Map<String, String> settings, byte[] parameterStatus) {
        public LoginTemplate(Map<String, String> parameters, Map<String, String> settings) {
            this(parameters, settings, encode(parameters));
        }

        /** The ParameterStatus messages a client is welcomed with, encoded once for every client. */
        private static byte[] encode(Map<String, String> parameters) {
            ByteBuf out = Unpooled.buffer();
            for (Map.Entry<String, String> parameter : parameters.entrySet()) {
                BackendCodec.encode(new ParameterStatus(parameter.getKey(), parameter.getValue()), out);
            }
            return ByteBufUtil.getBytes(out);
        }
    }

    private static final int MAX_LOGIN_TEMPLATES = 1000;
    private final ConcurrentHashMap<Map<String, String>, LoginTemplate> loginTemplates = new ConcurrentHashMap<>();

    /** What the last new server reported at login, before any client changed anything. */
    private volatile Map<String, String> serverParameters;

    /**
     * A new server reported its parameters: when they differ from the last server's (Postgres restarted with
     * other settings or another version, ALTER ROLE ... SET), the welcomes learnt from earlier servers are out
     * of date, and the next logins learn them again.
     */
    private void serverReported(Map<String, String> parameters) {
        Map<String, String> reported = Map.copyOf(parameters);
        Map<String, String> previous = serverParameters;
        if (!reported.equals(previous)) {
            serverParameters = reported;
            if (previous != null) {
                log.debug("pool {}: the server's parameters changed; forgetting {} login template(s)", target.key(),
                        loginTemplates.size());
                loginTemplates.clear();
            }
        }
    }

    public LoginTemplate loginTemplate(Map<String, String> startupSettings) {
        return loginTemplates.get(startupSettings);
    }

    public void rememberLogin(Map<String, String> startupSettings, LoginTemplate template) {
        if (loginTemplates.size() < MAX_LOGIN_TEMPLATES) {
            loginTemplates.put(startupSettings, template);
        }
    }

    // The pool's share of a pool_size that several instances share; see SlotLeases.

    /** What the lease holder needs to know of the pool, read at one moment. */
    public record LeaseDemand(int capacity, int wanted, int held) {}

    /**
     * How many servers the pool would use now (capped by pool_size): those in use plus one per waiting client, and
     * at least min_idle (idle servers beyond that are kept only while nobody else wants their slots); and how many
     * it holds (connecting and closing ones too: each may have a backend in Postgres).
     */
    public synchronized LeaseDemand leaseDemand() {
        Settings s = settings;
        int using = counts[State.IN_USE.ordinal()] + counts[State.CANCELLING.ordinal()] + waiters.size();
        return new LeaseDemand(s.maxSize(), Math.min(s.maxSize(), Math.max(s.minIdle(), using)), open());
    }

    /** The servers the pool may hold by its lease now. */
    public synchronized int clusterLimit() {
        return clusterLimit;
    }

    /** Registers who hears that waiters want more servers than the lease allows. */
    public void onShortOfSlots(Runnable listener) {
        this.onShortOfSlots = listener;
    }

    /**
     * Lowers the lease's limit (before the lower figure is written to the metadata database): idle servers
     * beyond it close now, busy ones as they come back, and no server opens beyond it. Returns the servers still
     * held, which the lease goes on counting until they have closed.
     */
    public int lowerClusterLimit(int limit) {
        List<ServerConnection> toClose = new ArrayList<>();
        int held;
        synchronized (this) {
            clusterLimit = Math.min(clusterLimit, limit);
            int excess = open() - counts[State.CLOSING.ordinal()] - maxOpen();
            for (ServerConnection server : new ArrayList<>(idle).reversed()) {
                if (excess <= 0) {
                    break;
                }
                server.closeReason(CloseReason.POOL_SHRUNK);
                move(server, State.CLOSING);
                toClose.add(server);
                excess--;
            }
            held = open();
        }
        toClose.forEach(ServerConnection::close);
        return held;
    }

    /**
     * Raises the lease's limit (after the metadata database recorded it): waiting clients get their connects
     * now.
     */
    public void raiseClusterLimit(int limit) {
        List<ServerConnection> toOpen = new ArrayList<>();
        List<EventLoop> openOn = new ArrayList<>();
        synchronized (this) {
            if (limit <= clusterLimit) {
                return;
            }
            clusterLimit = limit;
            Iterator<Waiter> waiting = waiters.iterator();
            for (ServerConnection server = reserveConnect(); server != null; server = reserveConnect()) {
                toOpen.add(server);
                openOn.add(waiting.hasNext() ? waiting.next().loop : loops.next());
            }
            shortOfSlots = false;
        }
        for (int i = 0; i < toOpen.size(); i++) {
            startConnect(openOn.get(i), toOpen.get(i));
        }
    }

    /**
     * The lease ran out (the metadata database unreachable for longer than cluster.instance_timeout): others
     * may now hold these slots, so every server closes, busy ones too (their clients hear it as of any server
     * that goes away), and none opens until a lease is granted again.
     */
    public void leaseLost() {
        synchronized (this) {
            clusterLimit = 0;
        }
        closeAll(false, true);
    }

    // Admin console operations (PAUSE, RESUME, RECONNECT, KILL, WAIT_CLOSE); see PoolAdmin.

    /** Under the lock: whether a server given back must close instead of serving anyone. */
    private synchronized boolean mustCloseOnRelease(ServerConnection server) {
        return paused || closeNeeded.contains(server);
    }

    /**
     * PAUSE: from now on checkouts wait (up to the checkout timeout) and no server is opened; idle servers
     * close now, busy ones when they are released, so the pool empties as its transactions end.
     */
    public void pause() {
        closeAll(true, false);
    }

    /** KILL: paused, and every server closed now, busy or not (their clients are told by whoever kills them). */
    public void kill() {
        closeAll(true, true);
    }

    /** Terminate: every server closed now, busy or not, without pausing (a login under way closes when done). */
    public void closeEveryServer() {
        closeAll(false, true);
    }

    /** RECONNECT: every server open now closes as soon as nobody uses it (idle ones at once). */
    public void reconnect() {
        closeAll(false, false);
    }

    private void closeAll(boolean pause, boolean busyToo) {
        List<ServerConnection> toClose = new ArrayList<>();
        synchronized (this) {
            paused |= pause;
            for (ServerConnection server : List.copyOf(servers)) {
                State state = server.state();
                if (state == State.CLOSING || state == State.CLOSED) {
                    continue;
                }
                if (state == State.IDLE || (busyToo && state != State.CONNECTING)) {
                    server.closeReason(CloseReason.ADMIN_COMMAND);
                    move(server, State.CLOSING);
                    toClose.add(server);
                } else if (!pause || busyToo) {
                    closeNeeded.add(server); // a login under way ends in offer(), which closes it
                }
            }
        }
        // A busy server's client hears of the close through its listener, as of any server that goes away.
        toClose.forEach(ServerConnection::close);
    }

    /** RESUME: checkouts are served again; the waiters get servers (connects start for them now). */
    public void resume() {
        List<ServerConnection> connects = new ArrayList<>();
        EventLoop loop;
        synchronized (this) {
            if (!paused) {
                return;
            }
            paused = false;
            loop = waiters.isEmpty() ? null : waiters.peekFirst().loop;
            for (ServerConnection connect = reserveConnect(); connect != null; connect = reserveConnect()) {
                connects.add(connect);
            }
        }
        for (ServerConnection server : connects) {
            startConnect(loop, server);
        }
    }

    public boolean isPaused() {
        return paused;
    }

    /** Servers not yet closing: a PAUSE is complete when none is left. */
    public synchronized int serversNotClosing() {
        return open() - counts[State.CLOSING.ordinal()];
    }

    /** Whether RECONNECT marked this server to close once it is free (SHOW SERVERS' close_needed). */
    public synchronized boolean isCloseNeeded(ServerConnection server) {
        return closeNeeded.contains(server);
    }

    /** Servers RECONNECT marked that have not closed yet: a WAIT_CLOSE is complete when none is left. */
    public synchronized int closeNeededCount() {
        return closeNeeded.size();
    }
}
