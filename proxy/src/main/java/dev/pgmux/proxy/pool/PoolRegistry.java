package dev.pgmux.proxy.pool;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamTls;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.tenant.TenantRegistry;
import dev.pgmux.proxy.tls.UpstreamTlsContext;
import dev.pgmux.proxy.tls.UpstreamTlsContexts;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * All pools, created on first use per (tenant, database, user) and removed once nobody uses them: a pool
 * with no client, no server and no waiter goes after the tenant's idle timeout, or at once when its last
 * connect failed (a database the upstream refused). Clients join a pool for as long as they are connected;
 * joining and removal are atomic per key, so a client never joins a pool that is being removed.
 *
 * <p>Each pool follows the configuration in effect ({@link #reconfigure}, after a reload, and every second):
 * its size, timeouts and upstream come from its tenant as configured now; a pool whose tenant, user or
 * database a reload removed is retired, serving the clients it has until the last one leaves.
 */
public final class PoolRegistry implements AutoCloseable {
    private final ConcurrentHashMap<PoolKey, ServerPool> pools = new ConcurrentHashMap<>();
    private final TenantRegistry tenants;
    private final ServerConnector connector;
    private final EventLoopGroup loops;
    private final ScheduledFuture<?> maintenance;
    private final UpstreamOutages outages = new UpstreamOutages();
    private final Metrics metrics;
    private final PoolAdmin admin = new PoolAdmin(this);
    private final UpstreamTlsContexts tlsContexts = new UpstreamTlsContexts();
    /** With pool_size shared by several instances: told when a pool wants servers beyond its lease; null without. */
    private volatile Runnable leaseListener;

    public PoolRegistry(TenantRegistry tenants, ServerConnector connector, EventLoopGroup loops, Metrics metrics) {
        this.tenants = tenants;
        this.connector = connector;
        this.loops = loops;
        this.metrics = metrics;
        this.maintenance = loops.next().scheduleWithFixedDelay(this::maintain, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * The pool for this tenant's user on this database, joined by one more client until it calls
     * {@link #leave}. The database must be one the tenant allows (the caller checked).
     */
    public ServerPool join(Tenant tenant, String database, Tenant.User user) {
        PoolKey key = new PoolKey(tenant.id(), database, user.name());
        ServerPool joined = pools.compute(key, (k, existing) -> {
            ServerPool pool = existing;
            if (pool == null || pool.isClosed()) {
                if (pool != null) {
                    pool.metrics().close(); // closed as unused just now: its successor starts from zero
                }
                Setup setup = setup(k);
                if (setup != null) {
                    pool = new ServerPool(setup.target(), setup.settings(), connector, loops, outages, metrics);
                } else { // removed by a reload after this client logged in: serves it (and others like it) only
                    TenantConfig config = tenant.config();
                    pool = new ServerPool(target(k, config, user), settings(config), connector, loops, outages, metrics);
                    pool.retire();
                }
                if (admin.isPaused(k)) {
                    pool.pause();
                }
                Runnable listener = leaseListener;
                if (listener != null) { // no server until the lease grants one
                    pool.lowerClusterLimit(0);
                    pool.onShortOfSlots(listener);
                }
            }
            pool.clientJoined();
            return pool;
        });
        admin.settle(joined); // a PAUSE or RESUME that ran while it was being created may have missed it
        return joined;
    }

    /**
     * From now on, pool_size is shared with other instances through leases: new pools open no server until
     * their lease grants slots, and tell {@code listener} when waiters want more than it grants.
     */
    public void leased(Runnable listener) {
        this.leaseListener = listener;
    }

    /** A client of {@code pool} has gone; the pool is removed now if it is unused and its login failed. */
    public void leave(ServerPool pool) {
        pool.clientLeft();
        removeIfUnused(pool, System.nanoTime());
    }

    /** What a pool is by the configuration in effect. */
    private record Setup(ServerTarget target, ServerPool.Settings settings) {}

    /** The pool's setup by the configuration in effect, or null when its tenant, user or database is not in it. */
    private Setup setup(PoolKey key) {
        Tenant tenant = tenants.find(key.tenant());
        if (tenant == null) {
            return null;
        }
        TenantConfig config = tenant.config();
        Tenant.User user = tenant.user(key.user());
        if (user == null || !config.allowedDatabases().contains(key.database())) {
            return null;
        }
        return new Setup(target(key, config, user), settings(config));
    }

    private ServerTarget target(PoolKey key, TenantConfig config, Tenant.User user) {
        return new ServerTarget(key, config.upstream().host(), config.upstream().port(), key.database(), user.name(),
                user.credentials(), config.connectTimeout(), tlsContexts.forSettings(config.upstream().tls()));
    }

    /**
     * Brings every pool in line with the configuration in effect (after a reload; maintenance does it every
     * second too, which also catches a pool created while a reload ran): see {@link ServerPool#reconfigure}
     * and {@link ServerPool#retire}. A retired pool without clients goes at once. The upstream TLS contexts
     * are built again from their files; servers opened with other TLS settings close (UPSTREAM_CHANGED).
     */
    public void reconfigure() {
        tlsContexts.refresh(); // the PEM files are read again; servers stay unless their TLS settings changed
        long now = System.nanoTime();
        for (ServerPool pool : pools.values()) {
            reconfigure(pool);
            removeIfUnused(pool, now);
        }
    }

    private void reconfigure(ServerPool pool) {
        Setup setup = setup(pool.key());
        if (setup != null) {
            pool.reconfigure(setup.target(), setup.settings());
        } else if (!pool.isRetired()) {
            pool.retire();
        }
    }

    static ServerPool.Settings settings(TenantConfig config) {
        return new ServerPool.Settings(config.poolSize(), config.minIdle(), config.checkoutTimeout(),
                config.idleTimeout(), config.maxLifetime());
    }

    public Collection<ServerPool> all() {
        return pools.values();
    }

    /** PAUSE, RESUME, RECONNECT, KILL per database, for the admin console. */
    public PoolAdmin admin() {
        return admin;
    }

    private void maintain() {
        long now = System.nanoTime();
        for (ServerPool pool : pools.values()) {
            reconfigure(pool);
            pool.maintain();
            removeIfUnused(pool, now);
        }
    }

    private void removeIfUnused(ServerPool pool, long now) {
        pools.computeIfPresent(pool.key(), (k, current) -> {
            if (current == pool && pool.closeIfUnused(now)) {
                pool.metrics().close();
                return null;
            }
            return current;
        });
        if (pool.isRetired() && pool.isClosed()) {
            pool.close(); // a retired pool goes with its idle servers
        }
    }

    @Override
    public void close() {
        maintenance.cancel(false);
        pools.values().forEach(pool -> {
            pool.close();
            pool.metrics().close();
        });
    }

    /** The TLS context for these upstream settings, shared with the tenant's pools (auth_query lookups use it too). */
    public UpstreamTlsContext upstreamTls(UpstreamTls settings) {
        return tlsContexts.forSettings(settings);
    }
}
