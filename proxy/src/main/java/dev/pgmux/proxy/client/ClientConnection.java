package dev.pgmux.proxy.client;

import dev.pgmux.config.PoolMode;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.CloseReason;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerListener;
import dev.pgmux.proxy.server.SettingsSnapshot;
import dev.pgmux.proxy.tenant.Tenant;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import dev.pgmux.proxy.metrics.PoolTraffic;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import java.util.Map;

/**
 * What pgmux knows about one client connection: who it is (tenant, user, database), the session settings
 * it asked for at startup, its cancel key, and the server it is attached to, if any.
 */
public final class ClientConnection {
    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final Channel channel;
    private final ProxyRuntime runtime;
    /** The port's, until the user's own pool_mode replaces it at login. */
    private PoolMode mode;
    private final long connectedAtMillis = System.currentTimeMillis();
    // Written on the client's event loop and read by the admin views and the metrics without a lock or a
    // fence (the hot path pays nothing for them): a view may be a moment old, never torn.
    private ClientState state = ClientState.LOGIN;
    private long waitingSinceNanos;
    private long lastRequestNanos;
    private boolean startupReceived;
    private boolean welcomed;
    /** The SQLSTATE and message of the FATAL error pgmux ended the connection with, if it did. */
    private String fatalSqlState;
    private String fatalMessage;
    /** Its server's connection was lost, which ended this one. */
    private boolean serverLost;
    /**
     * The user name of its startup packet, as given ({@code user.tenant}, or a console user's); null once
     * logged in when it reads exactly {@code user.tenant} of its user and tenant, which then say it.
     */
    private String loginName;
    /** The connection's peer, or the client a load balancer's PROXY protocol header named. */
    private volatile java.net.SocketAddress remoteAddress;
    private PoolTraffic traffic = PoolTraffic.NONE;
    /** How many prepared statements the client holds, as its pooling handler counts them (read racily). */
    private volatile java.util.function.IntSupplier preparedStatements = () -> 0;
    private Tenant tenant;
    private Tenant.User user;
    private String database;
    private Map<String, String> sessionParameters = Map.of();
    private BackendKeyData cancelKey;
    private volatile ServerConnection server;
    private volatile ServerPool pool;
    private boolean released;
    /** The pooling handler serving the client since its login: how a shutdown ends it once it is idle. */
    private EndWhenIdle pooling;

    ClientConnection(Channel channel, ProxyRuntime runtime, PoolMode mode) {
        this.channel = channel;
        this.runtime = runtime;
        this.mode = mode;
        this.remoteAddress = channel.remoteAddress(); // kept: some transports forget it once the channel closes
    }

    /** Unique in this process, in connection order: what the admin console lists and KILL_CLIENT takes. */
    public long id() {
        return id;
    }

    public PoolMode mode() {
        return mode;
    }

    /** The user's pool_mode overrides the port's: called once authenticated, before the client joins a pool. */
    void mode(PoolMode mode) {
        this.mode = mode;
    }

    /**
     * The client's address and port: the connection's peer, or behind a load balancer that sends the PROXY
     * protocol, the client it named.
     */
    public java.net.SocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** The PROXY protocol header named the client: set before the login reads anything. */
    void proxiedFrom(java.net.InetSocketAddress client) {
        this.remoteAddress = client;
    }

    /** The user name the client logged in with, as it gave it; null before its startup packet. */
    public String loginName() {
        if (loginName == null && user != null && tenant != null) {
            return user.name() + "." + tenant.id();
        }
        return loginName;
    }

    void loginName(String name) {
        this.loginName = name;
    }

    public ClientState state() {
        return state;
    }

    public long connectedAtMillis() {
        return connectedAtMillis;
    }

    /** When the client last sent something that needed a server, in epoch milliseconds (0: never). */
    public long lastRequestAtMillis() {
        long at = lastRequestNanos;
        return at == 0 ? 0 : System.currentTimeMillis() - (System.nanoTime() - at) / 1_000_000;
    }

    /** Since when (nanoTime) the client has waited for a server; meaningful in {@link ClientState#WAITING}. */
    public long waitingSinceNanos() {
        return waitingSinceNanos;
    }

    /** Whether the client's connection is encrypted. */
    public boolean tls() {
        return channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    }

    /** The pool the client joined after its login, or null before. */
    public ServerPool pool() {
        return pool;
    }

    /** Where this client's traffic is counted: its pool's meters for its mode (nothing before it joins one). */
    public PoolTraffic traffic() {
        return traffic;
    }

    /** The named prepared statements the client holds now (transaction mode; 0 where pgmux does not track them). */
    public int preparedStatements() {
        return preparedStatements.getAsInt();
    }

    /** Where {@link #preparedStatements()} is read from: the handler that keeps the client's statements. */
    public void preparedStatements(java.util.function.IntSupplier count) {
        this.preparedStatements = count;
    }

    /** The client joined {@code pool} (after its login): its traffic is counted there from now on. */
    public void joined(ServerPool pool) {
        this.pool = pool;
        this.traffic = pool.metrics().traffic(mode);
    }

    /** The client sent its startup message: from here a close before the welcome is a failed login. */
    void startupReceived() {
        startupReceived = true;
    }

    /** The client has been sent its ReadyForQuery: logged in, holding its server (session mode) or not. */
    public void welcomed() {
        // Not a client told FATAL (by a shutdown) while its welcome was on its way.
        if (!welcomed && !released && fatalSqlState == null) {
            welcomed = true;
            waitingSinceNanos = 0;
            if (loginName != null && user != null && tenant != null && isUserDotTenant(loginName)) {
                loginName = null; // an idle client keeps no string that its user and tenant can spell
            }
            state = server == null ? ClientState.IDLE : ClientState.ACTIVE;
            runtime.metrics().loginSucceeded(tenant == null ? null : tenant.id(), mode); // a console user has none
            runtime.logs().connections().loggedIn(this);
        }
    }

    private boolean isUserDotTenant(String name) {
        String userName = user.name();
        String tenantId = tenant.id();
        return name.length() == userName.length() + 1 + tenantId.length() && name.startsWith(userName)
                && name.charAt(userName.length()) == '.' && name.endsWith(tenantId);
    }

    /** The client waits for a server from its pool (its login's, or one for its next transaction). */
    public void waitingForServer() {
        waitingSinceNanos = System.nanoTime();
        state = ClientState.WAITING;
    }

    /** The client sent something that needs its server, at this nanoTime; for the admin views. */
    public void requested(long nanos) {
        lastRequestNanos = nanos;
    }

    public Channel channel() {
        return channel;
    }

    public ProxyRuntime runtime() {
        return runtime;
    }

    public Tenant tenant() {
        return tenant;
    }

    /** Counted against the tenant's max_clients from here until {@link #released()}. */
    void tenant(Tenant tenant) {
        this.tenant = tenant;
    }

    public Tenant.User user() {
        return user;
    }

    void user(Tenant.User user) {
        this.user = user;
    }

    public String database() {
        return database;
    }

    void database(String database) {
        // The tenant's own database name when it is that one: thousands of clients then share one string.
        String configured = tenant == null ? null : tenant.config().upstream().database();
        this.database = database != null && database.equals(configured) ? configured : database;
    }

    /** Startup parameters (and options) to apply on any server this client uses. */
    public Map<String, String> sessionParameters() {
        return sessionParameters;
    }

    void sessionParameters(Map<String, String> parameters) {
        // Interned: the clients of one application send the same startup parameters and share one map.
        this.sessionParameters = SettingsSnapshot.of(parameters);
    }

    /** The BackendKeyData this client was given, or null before its welcome. */
    public BackendKeyData cancelKey() {
        return cancelKey;
    }

    /**
     * Issues the client's BackendKeyData, once, as it is welcomed: with the real process id of
     * {@code server} (session mode: {@code pg_backend_pid()} and NOTIFY sender pids agree with it) or, when
     * null, a random unique one. The secret is always pgmux's own.
     */
    public BackendKeyData issueCancelKey(ServerConnection server) {
        if (cancelKey == null && !released) {
            cancelKey = server != null && server.backendKey() != null
                    ? runtime.cancels().register(this, server.backendKey().processId())
                    : runtime.cancels().register(this);
        }
        return cancelKey;
    }

    /** The server this client is attached to, or null. Read from other threads by cancel requests. */
    public ServerConnection server() {
        return server;
    }

    /**
     * The one place a server is attached to a client, in either pooling mode: from here until
     * {@link #detach}, what the server sends goes to {@code listener} and this client's cancel requests
     * reach it. A server that closed on its way here, before anyone was attached to hear it, is not attached
     * but discarded (a close from now on is heard): false, and the caller takes another.
     */
    public boolean attach(ServerPool pool, ServerConnection server, ServerListener listener) {
        if (this.server != null) {
            throw new IllegalStateException(this + " is attached to " + this.server + " already");
        }
        this.pool = pool;
        this.server = server;
        server.attach(listener);
        if (!server.isActive()) {
            detach();
            pool.discard(server, CloseReason.SERVER_GONE);
            return false;
        }
        traffic.serverAssigned(waitingSinceNanos == 0 ? 0 : System.nanoTime() - waitingSinceNanos);
        waitingSinceNanos = 0;
        if (state != ClientState.LOGIN) {
            state = ClientState.ACTIVE;
        }
        return true;
    }

    /**
     * Detaches the server, which the caller then gives back to its pool (release, discard or abandon).
     * Returns null when none is attached, so a server can never be given back twice through a client.
     */
    public ServerConnection detach() {
        ServerConnection attached = server;
        if (attached != null) {
            server = null;
            attached.attach(null);
            if (welcomed && !released) {
                state = ClientState.IDLE;
            }
        }
        return attached;
    }

    /**
     * Forwards a cancel to the server this client is using now; does nothing when it has none, or when
     * that server goes back to the pool before the cancel is on its way.
     */
    void cancel() {
        ServerConnection current = server;
        ServerPool currentPool = pool;
        if (current != null) {
            currentPool.cancel(current, () -> server == current);
        }
    }

    /** Its server's connection was lost, and with it this client's (for the disconnect log line). */
    public void serverLost() {
        if (fatalSqlState == null) { // else pgmux had ended the session already (KILL closes both)
            serverLost = true;
        }
    }

    /** The pooling handler that serves the client from now on (see {@link #endWhenIdle}). */
    public void servedBy(EndWhenIdle handler) {
        this.pooling = handler;
    }

    /**
     * A shutdown: a logged-in client is ended with FATAL 57P01 as soon as it is idle (at once when it has no
     * transaction in flight; see {@link EndWhenIdle}); one whose login is under way gets 57P03 (its login
     * handler refuses it at its next step, the pooling handler at once). From any thread.
     */
    public void endWhenIdle() {
        onEventLoop(() -> {
            if (released) {
                return;
            }
            if (!welcomed) {
                if (pooling != null) {
                    farewell(ClientErrors.shuttingDown());
                }
            } else if (pooling != null) {
                pooling.endWhenIdle(ClientErrors.adminShutdown());
            } else {
                farewell(ClientErrors.adminShutdown()); // the admin console: idle between its commands
            }
        });
    }

    /**
     * The end of a shutdown's wait: the client is ended now, idle or not (57P01; 57P03 during its login). A
     * server it holds closes as the connection does: a transaction left open rolls back. From any thread.
     */
    public void endNow() {
        onEventLoop(() -> {
            if (released) {
                return;
            }
            if (welcomed) {
                fatal(ClientErrors.adminShutdown());
            } else if (startupReceived) {
                fatal(ClientErrors.shuttingDown());
            } else {
                channel.close(); // no startup packet yet (perhaps a TLS handshake): nothing can be said
            }
        });
    }

    private void onEventLoop(Runnable work) {
        if (channel.eventLoop().inEventLoop()) {
            work.run();
        } else {
            channel.eventLoop().execute(work);
        }
    }

    /** Sends a FATAL error and closes the connection once it is written. */
    public void fatal(String sqlState, String message) {
        fatal(ErrorResponse.fatal(sqlState, message));
    }

    public void fatal(ErrorResponse error) {
        end(error, false);
    }

    /**
     * A shutdown's FATAL error to a client with nothing in flight (idle, or at {@link #endNow}): as
     * {@link #fatal}, but the connection also closes at the end of the client's next read. A client that sends
     * a request before it reads the error (pgjdbc) then learns of it at once rather than after the linger.
     */
    public void farewell(ErrorResponse error) {
        end(error, true);
    }

    private void end(ErrorResponse error, boolean closeAfterNextRead) {
        if (!channel.isActive()) {
            channel.close();
        } else if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> end(error, closeAfterNextRead));
        } else if (channel.pipeline().get(Ended.class) == null) {
            fatalSqlState = error.code();
            fatalMessage = error.message();
            traffic.error(error.code());
            channel.writeAndFlush(BackendCodec.encode(error, channel.alloc()), channel.voidPromise());
            closeAfterReading(closeAfterNextRead);
        }
    }

    /** How long a client told of a FATAL error may go on sending before pgmux closes its connection anyway. */
    private static final long LINGER_MILLIS = 2_000;

    /**
     * Ends the connection after a FATAL error without losing it: closing at once while the client is still
     * sending (a message over max_frame_size, a pipeline) would leave its data unread, and the kernel would
     * reset the connection, which makes drivers that stop at a failed write (pgjdbc) report a broken
     * connection instead of the error already on its way. So pgmux drops whatever still arrives, writes
     * nothing more (the error is the client's last word), and closes when the client does, or after
     * {@value #LINGER_MILLIS} ms. No half-close: shutting the output down while io_uring still has a write
     * in flight breaks Netty's accounting of that write.
     */
    private void closeAfterReading(boolean closeAfterNextRead) {
        // the error above has passed it: only later writes are dropped
        channel.pipeline().addFirst(new Ended(closeAfterNextRead));
        channel.config().setAutoRead(true);
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** A connection told its last word: what the client sends is dropped, and nothing more is written. */
    private static final class Ended extends ChannelDuplexHandler {
        /** A farewell: the client had nothing in flight, so what it sends next is all there is to read. */
        private final boolean closeAfterNextRead;

        Ended(boolean closeAfterNextRead) {
            this.closeAfterNextRead = closeAfterNextRead;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (closeAfterNextRead) {
                ctx.close();
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset while lingering: nothing left to say
        }
    }

    /**
     * The end of a connection after an exception in its pipeline: a protocol violation (also one the
     * frame decoder found) gets its FATAL error first; anything else is a bug of ours, logged, and closes.
     */
    public void failed(Throwable cause, org.slf4j.Logger log) {
        Throwable root = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (root instanceof dev.pgmux.protocol.frame.ProtocolException e && e.silent()) {
            log.debug("{}: closing: {}", this, e.getMessage());
            channel.close();
        } else if (root instanceof dev.pgmux.protocol.frame.ProtocolException e) {
            fatal(e.sqlState(), e.getMessage());
        } else if (root instanceof java.io.IOException) {
            // A reset or a broken pipe: the client's network or the client going away, not pgmux's business.
            log.debug("{}: closing after an I/O error: {}", this, root.toString());
            channel.close();
        } else {
            log.warn("{}: closing after an unexpected error: {}", this, root.toString(), root);
            channel.close();
        }
    }

    /** Gives back what the client held outside its channel (tenant slot, cancel key); idempotent. */
    public void released() {
        if (released) {
            return;
        }
        released = true;
        state = ClientState.CLOSED;
        runtime.clients().remove(this);
        if (startupReceived && !welcomed) {
            runtime.metrics().loginFailed(tenant == null ? null : tenant.id(), mode, LoginFailure.reason(fatalSqlState));
        }
        if (startupReceived) {
            runtime.logs().connections().ended(this, SessionEnd.of(welcomed, serverLost, fatalSqlState, fatalMessage));
        }
        if (cancelKey != null) {
            runtime.cancels().unregister(cancelKey);
        }
        if (tenant != null) {
            tenant.removeClient();
        }
    }

    @Override
    public String toString() {
        return "client[" + remoteAddress + (user == null ? "" : " " + user.name() + "." + tenant.id()) + "]";
    }
}
