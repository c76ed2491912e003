package dev.pgmux.proxy.pool;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.tenant.Tenant;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** All pools, created on first use per (tenant, database, user), with their periodic housekeeping. */
public final class PoolRegistry implements AutoCloseable {
    private final ConcurrentHashMap<PoolKey, ServerPool> pools = new ConcurrentHashMap<>();
    private final ServerConnector connector;
    private final EventLoopGroup loops;
    private final ScheduledFuture<?> maintenance;
    private final UpstreamOutages outages = new UpstreamOutages();

    public PoolRegistry(ServerConnector connector, EventLoopGroup loops) {
        this.connector = connector;
        this.loops = loops;
        this.maintenance = loops.next().scheduleWithFixedDelay(this::maintain, 1, 1, TimeUnit.SECONDS);
    }

    /** The pool for this tenant's user on this database. */
    public ServerPool pool(Tenant tenant, String database, Tenant.User user) {
        PoolKey key = new PoolKey(tenant.id(), database, user.name());
        return pools.computeIfAbsent(key, k -> {
            TenantConfig config = tenant.config();
            ServerTarget target = new ServerTarget(k, config.upstream().host(), config.upstream().port(), database,
                    user.name(), user.password(), config.connectTimeout());
            return new ServerPool(target, settings(config), connector, loops, outages);
        });
    }

    static ServerPool.Settings settings(TenantConfig config) {
        return new ServerPool.Settings(config.poolSize(), config.minIdle(), config.checkoutTimeout(),
                config.idleTimeout(), config.maxLifetime());
    }

    public Collection<ServerPool> all() {
        return pools.values();
    }

    private void maintain() {
        pools.values().forEach(ServerPool::maintain);
    }

    @Override
    public void close() {
        maintenance.cancel(false);
        pools.values().forEach(ServerPool::close);
    }
}
