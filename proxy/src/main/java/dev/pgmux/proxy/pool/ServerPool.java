package dev.pgmux.proxy.pool;

import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.proxy.server.ServerConnection;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The servers of one (tenant, database, user), at most {@code maxSize}. Clients that find no idle server
 * wait in FIFO order up to the checkout timeout; nothing ever blocks a thread. An idle server on the
 * caller's own event loop is preferred, so client and server usually share a thread.
 *
 * <p>Accounting has one path in and one path out: {@code open} grows when a connect starts and shrinks
 * when that connect fails or when the server's channel closes, whatever closed it.
 */
public final class ServerPool {
    private static final Logger log = LoggerFactory.getLogger(ServerPool.class);
    private static final int SAME_LOOP_LOOKAHEAD = 4;

    /** How a pool is sized and timed; taken from the tenant's configuration. */
    public record Settings(int maxSize, int minIdle, Duration checkoutTimeout, Duration idleTimeout, Duration maxLifetime) {}

    private final ServerTarget target;
    private final ServerConnector connector;
    private final EventLoopGroup loops;
    private volatile Settings settings;

    // Guarded by this.
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int open;
    private int connecting;
    private int active;
    private boolean closed;
    /** One pending timer at most: it fires for the head waiter's deadline and re-arms itself. */
    private boolean timerArmed;

    public ServerPool(ServerTarget target, Settings settings, ServerConnector connector, EventLoopGroup loops) {
        this.target = target;
        this.settings = settings;
        this.connector = connector;
        this.loops = loops;
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
            }
        }

        void served(ServerConnection server) {
            if (loop.inEventLoop() && DELIVERY_DEPTH.get()[0] < MAX_DELIVERY_DEPTH) {
                int[] depth = DELIVERY_DEPTH.get();
                depth[0]++;
                try {
                    listener.checkedOut(server);
                } finally {
                    depth[0]--;
                }
            } else {
                loop.execute(() -> listener.checkedOut(server));
            }
        }

        void failed(Throwable cause) {
            if (loop.inEventLoop()) {
                listener.checkoutFailed(cause);
            } else {
                loop.execute(() -> listener.checkoutFailed(cause));
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
            if (closed) {
                return null;
            }
            ServerConnection server = takeIdle(loop);
            if (server != null) {
                active++;
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
        boolean connect = false;
        boolean poolClosed;
        synchronized (this) {
            poolClosed = closed;
            if (!poolClosed) {
                ready = takeIdle(loop);
                if (ready == null) {
                    // Every waiter of a pool has the same timeout, so deadlines are in queue order: one timer
                    // for the head serves them all, instead of a scheduled task per waiter.
                    waiters.addLast(waiter);
                    if (!timerArmed) {
                        armTimer(waiter);
                    }
                    connect = reserveConnect();
                } else {
                    active++;
                }
            }
        }
        if (poolClosed) {
            waiter.failed(CheckoutException.closed(target.key()));
        } else if (ready != null) {
            waiter.served(ready);
        } else if (connect) {
            startConnect(loop);
        }
        return waiter;
    }

    /** Returns a server after use. The caller has made sure it is idle, reset and not mid-protocol. */
    public void release(ServerConnection server) {
        long now = System.nanoTime();
        Duration maxLifetime = settings.maxLifetime();
        boolean expired = !maxLifetime.isZero() && server.ageNanos(now) > maxLifetime.toNanos();
        boolean statementsAltered = server.session().isStatementsAlteredByClient();
        if (statementsAltered) {
            log.debug("pool {}: closing a server on which a client prepared or deallocated one of pgmux's statement names", target.key());
        }
        if (expired || statementsAltered || !server.isActive()) {
            discard(server);
            return;
        }
        server.attach(null);
        server.setAutoRead(true); // a slow client may have paused it; idle servers must see their close
        server.markIdle(now);
        offer(server, true);
    }

    /** Closes a server that must not be reused (broken, mid-transaction, expired). */
    public void discard(ServerConnection server) {
        server.attach(null);
        synchronized (this) {
            active--;
        }
        server.close();
    }

    /**
     * Straight to the next waiter, or idle: servers go to waiters before they go idle, so nobody jumps the
     * queue. A closed pool closes the server instead.
     *
     * @param counted the server counts in {@link #active} already (a release), rather than being newly connected
     */
    private void offer(ServerConnection server, boolean counted) {
        Waiter waiter = null;
        synchronized (this) {
            if (!closed) {
                waiter = nextWaiterFor(server);
                if (waiter == null) {
                    if (counted) {
                        active--;
                    }
                    idle.addFirst(server);
                    return;
                }
                if (!counted) {
                    active++;
                }
            }
        }
        if (waiter != null) {
            waiter.served(server);
        } else if (counted) {
            discard(server);
        } else {
            server.close();
        }
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

    private ServerConnection takeIdle(EventLoop loop) {
        ServerConnection first = idle.peekFirst();
        if (first == null) {
            return null; // the common case under load
        }
        if (first.channel().eventLoop() == loop && first.isActive()) {
            return idle.pollFirst();
        }
        ServerConnection fallback = null;
        for (Iterator<ServerConnection> it = idle.iterator(); it.hasNext(); ) {
            ServerConnection server = it.next();
            if (!server.isActive()) {
                continue; // its close callback removes it
            }
            if (server.channel().eventLoop() == loop) {
                it.remove();
                return server;
            }
            if (fallback == null) {
                fallback = server;
            }
        }
        if (fallback != null) {
            idle.remove(fallback);
        }
        return fallback;
    }

    /** Under the lock: whether another connect should start for the waiters. */
    private boolean reserveConnect() {
        if (!closed && open < settings.maxSize() && connecting < waiters.size()) {
            open++;
            connecting++;
            return true;
        }
        return false;
    }

    private void startConnect(EventLoop loop) {
        connector.connect(loop, target).addListener((Future<ServerConnection> f) -> {
            if (f.isSuccess()) {
                ServerConnection server = f.getNow();
                server.onClose(this::closed);
                synchronized (this) {
                    connecting--;
                }
                if (!server.isActive()) {
                    return; // closed already; the close callback did the accounting
                }
                offer(server, false);
            } else {
                connectFailed(f.cause());
            }
        });
    }

    private void connectFailed(Throwable cause) {
        Waiter failed;
        EventLoop retryLoop = null;
        synchronized (this) {
            open--;
            connecting--;
            failed = waiters.pollFirst();
            // Every waiter gets its own attempt and, if the upstream is down, its own fast error.
            if (reserveConnect()) {
                retryLoop = waiters.peekFirst().loop;
            }
        }
        log.warn("pool {}: cannot open a server connection: {}", target.key(), cause.getMessage());
        if (failed != null) {
            failed.failed(cause);
        }
        if (retryLoop != null) {
            startConnect(retryLoop);
        }
    }

    private void closed(ServerConnection server) {
        EventLoop connectLoop = null;
        synchronized (this) {
            idle.remove(server);
            open--;
            if (reserveConnect()) {
                connectLoop = waiters.peekFirst().loop;
            }
        }
        if (connectLoop != null) {
            startConnect(connectLoop);
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
        int toOpen;
        synchronized (this) {
            int keep = idle.size();
            for (Iterator<ServerConnection> it = idle.descendingIterator(); it.hasNext(); ) {
                ServerConnection server = it.next();
                boolean idleTooLong = !s.idleTimeout().isZero() && now - server.idleSinceNanos() > s.idleTimeout().toNanos()
                        && keep > s.minIdle();
                boolean tooOld = !s.maxLifetime().isZero() && server.ageNanos(now) > s.maxLifetime().toNanos();
                if (idleTooLong || tooOld) {
                    it.remove();
                    toClose.add(server);
                    keep--;
                }
            }
            toOpen = closed ? 0 : Math.max(0, Math.min(s.minIdle() - idle.size() - connecting, s.maxSize() - open));
            open += toOpen;
            connecting += toOpen;
        }
        toClose.forEach(ServerConnection::close);
        for (int i = 0; i < toOpen; i++) {
            startConnect(loops.next());
        }
    }

    /** Applies new sizes and timeouts (on reload); excess idle servers close at the next maintenance. */
    public void update(Settings settings) {
        this.settings = settings;
    }

    /** Stops handing out servers, fails the waiters and closes the idle servers; busy ones close on release. */
    public void close() {
        List<ServerConnection> toClose;
        List<Waiter> toFail;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(idle);
            idle.clear();
            toFail = new ArrayList<>(waiters);
            waiters.clear();
        }
        toClose.forEach(ServerConnection::close);
        for (Waiter waiter : toFail) {
            waiter.failed(CheckoutException.closed(target.key()));
        }
    }

    /** A consistent snapshot of the counters, for metrics, the admin console and tests. */
    public synchronized Stats stats() {
        return new Stats(open, connecting, idle.size(), active, waiters.size());
    }

    public record Stats(int open, int connecting, int idle, int active, int waiting) {}

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

    public LoginTemplate loginTemplate(Map<String, String> startupSettings) {
        return loginTemplates.get(startupSettings);
    }

    public void rememberLogin(Map<String, String> startupSettings, LoginTemplate template) {
        if (loginTemplates.size() < MAX_LOGIN_TEMPLATES) {
            loginTemplates.put(startupSettings, template);
        }
    }
}
