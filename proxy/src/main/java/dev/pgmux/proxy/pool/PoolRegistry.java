package dev.pgmux.proxy.pool;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.tenant.Tenant;
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
 */
public final class PoolRegistry implements AutoCloseable {
    private final ConcurrentHashMap<PoolKey, ServerPool> pools = new ConcurrentHashMap<>();
    private final ServerConnector connector;
    private final EventLoopGroup loops;
    private final ScheduledFuture<?> maintenance;
    private final UpstreamOutages outages = new UpstreamOutages();
    private final Metrics metrics;
    private final PoolAdmin admin = new PoolAdmin(this);

    public PoolRegistry(ServerConnector connector, EventLoopGroup loops, Metrics metrics) {
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
                TenantConfig config = tenant.config();
                ServerTarget target = new ServerTarget(k, config.upstream().host(), config.upstream().port(), database,
                        user.name(), user.password(), config.connectTimeout());
                if (pool != null) {
                    pool.metrics().close(); // closed as unused just now: its successor starts from zero
                }
                pool = new ServerPool(target, settings(config), connector, loops, outages, metrics);
                if (admin.isPaused(k)) {
                    pool.pause();
                }
            }
            pool.clientJoined();
            return pool;
        });
        admin.settle(joined); // a PAUSE or RESUME that ran while it was being created may have missed it
        return joined;
    }

    /** A client of {@code pool} has gone; the pool is removed now if it is unused and its login failed. */
    public void leave(ServerPool pool) {
        pool.clientLeft();
        removeIfUnused(pool, System.nanoTime());
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
    }

    @Override
    public void close() {
        maintenance.cancel(false);
        pools.values().forEach(pool -> {
            pool.close();
            pool.metrics().close();
        });
    }
}
