package dev.pgmux.proxy;

import dev.pgmux.config.PoolMode;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.admin.AdminHttpServer;
import dev.pgmux.proxy.api.TenantApi;
import dev.pgmux.proxy.cancel.CancelRegistry;
import dev.pgmux.proxy.client.ClientChannelInitializer;
import dev.pgmux.proxy.client.ClientRegistry;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.console.Console;
import dev.pgmux.proxy.console.ConsoleActions;
import dev.pgmux.proxy.log.LogOutput;
import dev.pgmux.proxy.log.Logs;
import dev.pgmux.proxy.log.Repeats;
import dev.pgmux.proxy.lifecycle.Shutdown;
import dev.pgmux.proxy.prepared.StatementCache;
import dev.pgmux.proxy.transaction.SessionChanges;
import dev.pgmux.proxy.pool.PoolRegistry;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.reload.HangupSignal;
import dev.pgmux.proxy.reload.ReloadResult;
import dev.pgmux.proxy.cluster.MetadataStore;
import dev.pgmux.proxy.cluster.SlotLeases;
import dev.pgmux.config.MetadataUrl;
import dev.pgmux.proxy.cluster.PeerCancels;
import dev.pgmux.proxy.reload.Reloader;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.tenant.TenantRegistry;
import dev.pgmux.proxy.tls.ClientTls;
import dev.pgmux.proxy.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One pgmux process: its event loops, listeners and runtime services. Start with {@link #start}. */
public final class PgmuxServer implements AutoCloseable, ConsoleActions {
    private static final Logger log = LoggerFactory.getLogger(PgmuxServer.class);

    private static final int SERVER_MAX_FRAME_SIZE = 1 << 30;

    /** The configuration pgmux started with: its listeners and threads stay for the process's life. */
    private final PgmuxConfig config;
    private final Transport transport;
    private final EventLoopGroup workers;
    private final ProxyRuntime runtime;
    private final Metrics metrics;
    private final Reloader reloader;
    private volatile Optional<HangupSignal.Installed> hangup = Optional.empty();
    private final List<Channel> listeners = new ArrayList<>();
    private volatile boolean ready;
    private boolean closed;
    private final Shutdown shutdown;
    /** Completes once the process has stopped: its listeners and event loops are closed. */
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private Channel sessionListener;
    private Channel transactionListener;
    private Channel adminListener;
    /** This instance's name among the others in the metadata database (cluster.instance_id, or made up). */
    private final String instanceId;
    /** The tenants of the metadata database (cluster.metadata_url); null without one. */
    private volatile MetadataStore metadata;
    /** The tenant API on the admin port; null without a metadata database. */
    private volatile TenantApi api;

    private PgmuxServer(PgmuxConfig config, int workerThreads) {
        this.config = config;
        this.transport = Transport.of(config.listen().transport());
        this.workers = transport.newGroup(workerThreads, "pgmux-io");
        SecureRandom random = BufferedSecureRandom.create();
        byte[] mockKey = new byte[32];
        random.nextBytes(mockKey);
        CurrentConfig current = new CurrentConfig(config, ClientTls.create(config.tls()));
        Repeats repeats = new Repeats(() -> current.config().log().repeatInterval(), System::nanoTime);
        // Servers are trusted with rows as large as Postgres itself allows (1 GB); clients get the configured limit.
        ServerConnector connector = new ServerConnector(transport, SERVER_MAX_FRAME_SIZE, config.limits().serverKeepalive(),
                repeats);
        ClientRegistry clients = new ClientRegistry();
        this.metrics = new Metrics(clients);
        metrics.bindEventLoops(workers);
        TenantRegistry tenants = new TenantRegistry(config, random);
        PoolRegistry pools = new PoolRegistry(tenants, connector, workers, metrics);
        this.instanceId = config.cluster().instanceId().orElseGet(MetadataStore::defaultInstanceId);
        SlotLeases leases = config.cluster().hasMetadata() ? new SlotLeases(MetadataUrl.parse(config.cluster().metadataUrl().orElseThrow()),
                instanceId, config.cluster().instanceTimeout(), pools, tenants) : null;
        Console console = new Console(config.console(), random, pools, workers.next(), Console.STATS_PERIOD);
        this.runtime = new ProxyRuntime(current, tenants, pools,
                new CancelRegistry<>(random), connector, random, mockKey, new StatementCache(SessionChanges::mayChange),
                clients, metrics, console, new Logs(() -> current.config().log(), pools, repeats),
                new PeerCancels(transport, () -> metadata == null ? List.of() : metadata.peerList()), leases);
        this.reloader = new Reloader(runtime);
        this.shutdown = new Shutdown(runtime, this::stopAccepting, this::close);
        console.actions(this);
    }

    /** The network transport the event loops use. */
    public Transport transport() {
        return transport;
    }

    /** Starts pgmux with the configured number of I/O threads (by default half the cores). */
    public static PgmuxServer start(PgmuxConfig config) {
        return start(config, config.listen().effectiveIoThreads(Runtime.getRuntime().availableProcessors()));
    }

    public static PgmuxServer start(PgmuxConfig config, int workerThreads) {
        PgmuxServer server = new PgmuxServer(config, workerThreads);
        try {
            server.followMetadata();
            server.bind();
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * With cluster.metadata_url: reads its tenants before the listeners open, waiting up to
     * {@link #METADATA_START_WAIT} for the database; without it pgmux starts on the file's tenants, and /ready
     * answers 503 until the metadata's have been read.
     */
    private void followMetadata() {
        if (!config.cluster().hasMetadata()) {
            return;
        }
        metadata = new MetadataStore(config.cluster().withInstanceId(instanceId), () -> runtime.config().tls(),
                reloader::metadataTenants);
        metadata.onTerminate(this::terminateTenant);
        runtime.cancels().keyPrefix(0); // until the metadata database gives this instance its prefix
        metadata.onKeyPrefix(runtime.cancels()::keyPrefix);
        api = new TenantApi(() -> runtime.config().admin().apiJwtSecret(),
                MetadataUrl.parse(config.cluster().metadataUrl().orElseThrow()),
                () -> runtime.config().tls(), () -> System.currentTimeMillis() / 1000);
        metrics.bindMetadata(metadata);
        metrics.bindPeerCancels(runtime.peerCancels());
        metadata.start();
        try {
            if (!metadata.awaitLoaded(METADATA_START_WAIT)) {
                log.warn("starting without the metadata database's tenants (not read within {} s); /ready answers 503 "
                        + "until they are", METADATA_START_WAIT.toSeconds());
            }
            // Leases after the tenants: the schema is migrated by then, and the tenants read have their shares
            // before the first client comes.
            SlotLeases leases = runtime.leases();
            metrics.bindLeases(leases);
            leases.start();
            if (metadata.loaded() && !leases.awaitValid(METADATA_START_WAIT)) {
                log.warn("starting without leases on the tenants' pool_size and max_clients (none granted within {} s); "
                        + "/ready answers 503 until there are", METADATA_START_WAIT.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final java.time.Duration METADATA_START_WAIT = java.time.Duration.ofSeconds(10);

    /**
     * The tenant API's terminate, as it reaches every instance: each client of the tenant is told FATAL and
     * closed, and every server of its pools closes, busy or not. The tenant stays: new logins open new servers.
     */
    public void terminateTenant(String id) {
        int clients = 0;
        for (var client : runtime.clients().all()) {
            if (client.tenant() != null && client.tenant().id().equals(id)) {
                client.fatal(dev.pgmux.protocol.SqlState.ADMIN_SHUTDOWN,
                        "terminating connection: the tenant's connections were terminated by an administrator");
                clients++;
            }
        }
        runtime.pools().admin().terminate(id);
        log.info("tenant \"{}\" terminated: {} client(s) closed, and its servers", id, clients);
    }

    /** listen.host as the other instances can reach it: this host's address when it is a wildcard. */
    private static String peerHost(String listenHost) {
        String host = listenHost;
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") || host.isEmpty()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostAddress();
            } catch (java.net.UnknownHostException e) {
                host = "127.0.0.1";
            }
        }
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The other live instances of the metadata database (HOST:PORT of their transaction ports); none without one. */
    public List<String> clusterPeers() {
        MetadataStore store = metadata;
        return store == null ? List.of() : store.peers();
    }

    private boolean ready() {
        return ready && (metadata == null || (metadata.loaded() && metadata.registered() && runtime.leases().valid()));
    }

    private void bind() {
        String host = config.listen().host();
        transactionListener = listen(host, config.listen().transactionPort(), PoolMode.TRANSACTION);
        sessionListener = listen(host, config.listen().sessionPort(), PoolMode.SESSION);
        String adminHost = config.admin().effectiveHost(config.listen());
        try {
            ServerBootstrap admin = new ServerBootstrap()
                    .group(workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new AdminHttpServer(this::ready, this::poolsText, this::reloadAsync, metrics,
                            () -> runtime.config().admin().metricsToken(), api));
            if (config.listen().reusePort()) {
                transport.reusePort(admin);
            }
            adminListener = admin.bind(adminHost, config.listen().adminPort()).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + adminHost + ":" + config.listen().adminPort()
                    + " for the admin HTTP port: " + e.getMessage(), e);
        }
        listeners.add(adminListener);
        if (metadata != null) {
            metadata.peerAddress(config.cluster().peerAddress().orElseGet(() -> peerHost(host) + ":" + transactionPort()));
            // Registered before start returns, when the database answers: the others then know this instance
            // (for its clients' cancel requests) from the moment it is ready.
            try {
                if (metadata.connected() && !metadata.awaitRegistered(METADATA_START_WAIT)) {
                    log.warn("not registered in the metadata database within {} s; /ready answers 503 until it is",
                            METADATA_START_WAIT.toSeconds());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ready = true;
        log.info("pgmux listening on {}: transaction mode on port {}, session mode on port {}, admin HTTP on port {} "
                        + "({} transport, {} tenant(s){})", host, transactionPort(), sessionPort(), adminPort(),
                transport.configName(), runtime.config().tenants().size(), config.listen().reusePort() ? ", reuse_port" : "");
        if (!PlatformDependent.hasUnsafe()) {
            // Then Netty reads and writes direct buffers through checked ByteBuffer calls: more CPU per message.
            Throwable cause = PlatformDependent.getUnsafeUnavailabilityCause();
            log.info("Netty runs without sun.misc.Unsafe ({}); on JDK 24 and newer, --sun-misc-unsafe-memory-access=allow "
                    + "lets it use it, as pgmux's scripts do", cause == null ? "unavailable" : cause.getMessage());
        }
    }

    private Channel listen(String host, int port, PoolMode mode) {
        try {
            return bindListener(host, port, mode);
        } catch (Exception e) { // Netty rethrows the bind's IOException unchecked
            throw new IllegalStateException("cannot listen on " + host + ":" + port + " for " + mode.name().toLowerCase()
                    + " mode: " + e.getMessage(), e);
        }
    }

    private Channel bindListener(String host, int port, PoolMode mode) {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(workers) // accepting on the I/O threads: a new client needs no hand-over to another thread
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ClientChannelInitializer(runtime, mode));
        transport.clientSocketOptions(bootstrap); // TCP_NODELAY, SO_KEEPALIVE: on the listener where accepted sockets inherit them
        if (config.listen().reusePort()) {
            transport.reusePort(bootstrap); // another pgmux may listen on this port too
        }
        Channel channel = bootstrap.bind(host, port).syncUninterruptibly().channel();
        listeners.add(channel);
        return channel;
    }

    public int transactionPort() {
        return ((InetSocketAddress) transactionListener.localAddress()).getPort();
    }

    public int sessionPort() {
        return ((InetSocketAddress) sessionListener.localAddress()).getPort();
    }

    public int adminPort() {
        return ((InetSocketAddress) adminListener.localAddress()).getPort();
    }

    public ProxyRuntime runtime() {
        return runtime;
    }

    /**
     * Makes {@code output} (the process's log, see {@link LogOutput#console()}) follow {@code log.format} and
     * {@code log.level}, now and on every reload; returns this server.
     */
    public PgmuxServer logOutput(LogOutput output) {
        runtime.logs().output(output);
        return this;
    }

    /** The file {@link #reload()} re-reads (the one the configuration came from); returns this server. */
    public PgmuxServer configFile(Path file) {
        reloader.file(file);
        return this;
    }

    /**
     * Re-reads the configuration file and applies it without dropping a client, or refuses it (every problem
     * listed) and keeps the running configuration. Reloads are serialised; the result is logged.
     */
    public ReloadResult reload() {
        return reloader.reload();
    }

    /** {@link #reload()} on the reload thread: for callers on an event loop (the admin port, the console). */
    public CompletableFuture<ReloadResult> reloadAsync() {
        return reloader.reloadAsync();
    }

    /** Applies a configuration built in code, as {@link #reload()} applies the file's. */
    public ReloadResult reload(PgmuxConfig next) {
        return reloader.reload(next);
    }

    /**
     * Makes {@code file} the one {@link #reload()} re-reads (null: none, as with {@code --upstream}) and reloads
     * on SIGHUP where the JVM allows it; returns whether SIGHUP is handled. Call once, after {@link #start}.
     */
    public boolean reloadOnHangup(Path file) {
        configFile(file);
        hangup.ifPresent(HangupSignal.Installed::close);
        hangup = HangupSignal.install(this::onHangup);
        return hangup.isPresent();
    }

    /** What SIGHUP does: a {@link #reload()}, logged. */
    public ReloadResult onHangup() {
        Path file = reloader.file();
        log.info("SIGHUP: reloading the configuration from {}", file == null ? "(no file)" : file);
        return reload();
    }

    private String poolsText() {
        StringBuilder out = new StringBuilder();
        for (ServerPool pool : runtime.pools().all()) {
            ServerPool.Stats stats = pool.stats();
            out.append(pool.key()).append(pool.isRetired() ? " retired" : "")
                    .append(" size=").append(pool.settings().maxSize()).append(" open=").append(stats.open()).append(" connecting=").append(stats.connecting())
                    .append(" idle=").append(stats.idle()).append(" active=").append(stats.active())
                    .append(" waiting=").append(stats.waiting()).append(" cancelling=").append(stats.cancelling())
                    .append(" closing=").append(stats.closing());
            if (runtime.leases() != null) { // this instance's share of the cluster's pool_size now
                out.append(" lease=").append(pool.clusterLimit());
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** The console's RELOAD. */
    @Override
    public CompletableFuture<ReloadResult> reloadConfiguration() {
        return reloadAsync();
    }

    /** The console's SHUTDOWN, in each of its forms: see {@link #stop}. */
    @Override
    public void shutdown(ShutdownMode mode) {
        stop(mode);
    }

    /**
     * Stops pgmux as {@link Shutdown} describes: WAIT_FOR_CLIENTS (SIGTERM) drains, ending each client when it
     * is idle, up to limits.shutdown_timeout; WAIT_FOR_SERVERS drains with the pools paused; IMMEDIATE (SIGINT)
     * ends every client now. Returns at once (the drain runs on a thread of its own) with {@link #stopped()}; a
     * second call only turns a drain under way into an immediate stop (IMMEDIATE).
     */
    public CompletableFuture<Void> stop(ShutdownMode mode) {
        synchronized (this) {
            if (closed) {
                return stopped;
            }
        }
        shutdown.start(mode);
        return stopped;
    }

    /** Completes once pgmux has stopped, by {@link #stop} or {@link #close}. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** The first step of a shutdown: /ready answers 503 and no client is accepted; the admin port stays. */
    private void stopAccepting() {
        ready = false;
        for (Channel listener : new Channel[] {transactionListener, sessionListener}) {
            if (listener != null) {
                listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Closes every client and server connection still open and waits for them, up to {@code max}, before the
     * event loops stop: a TLS connection's close writes its close_notify first, and a write still queued when an
     * io_uring loop is destroyed is never released. Not from an event loop (it would wait for itself).
     */
    private void closeConnections(java.time.Duration max) {
        List<io.netty.channel.ChannelFuture> closing = new ArrayList<>();
        for (var client : runtime.clients().all()) {
            closing.add(client.channel().close());
        }
        for (var pool : runtime.pools().all()) {
            for (var server : pool.servers()) {
                if (server.channel() != null) {
                    closing.add(server.channel().close());
                }
            }
        }
        long deadline = System.nanoTime() + max.toNanos();
        for (io.netty.channel.ChannelFuture future : closing) {
            if (future.channel().eventLoop().inEventLoop()) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || !future.awaitUninterruptibly(TimeUnit.NANOSECONDS.toMillis(left) + 1)) {
                return;
            }
        }
    }

    /**
     * Stops listening, closes pools and connections (clients without a word: {@link #stop} says goodbye first),
     * and stops the event loops.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        shutdown.hurry(); // a drain under way has nothing left to wait for
        try {
            runtime.console().close();
            hangup.ifPresent(HangupSignal.Installed::close);
            if (metadata != null) {
                metadata.close();
            }
            if (api != null) {
                api.close();
            }
            reloader.close();
            listeners.forEach(channel -> channel.close().awaitUninterruptibly());
            runtime.pools().close();
            closeConnections(java.time.Duration.ofSeconds(2));
            if (runtime.leases() != null) {
                runtime.leases().close(); // after the servers: its slots are free for the others only now
            }
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            metrics.close();
            runtime.logs().close(); // after the event loops: every connection's last line is written by now
            log.info("pgmux stopped");
        } finally {
            stopped.complete(null); // whoever waits for the process to stop (Main) is never left waiting
        }
    }
}
