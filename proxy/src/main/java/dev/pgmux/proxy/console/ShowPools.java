package dev.pgmux.proxy.console;

import dev.pgmux.config.PoolMode;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.metrics.ClientCensus;
import dev.pgmux.proxy.pool.ServerPool;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * SHOW POOLS: one row per pool, that is per (tenant, database, user). Client counts come from the clients
 * connected through the pool (active: holding a server or idle; waiting: queued for one), server counts
 * from the pool's own states. pgmux has no used or tested servers (a server is reset by the client that
 * used it) and sends cancels on connections of their own, so those columns are 0.
 */
final class ShowPools {
    private ShowPools() {}

    static Result.Rows rows(ProxyRuntime runtime) {
        ClientCensus.Snapshot clients = ClientCensus.take(runtime.clients());
        long now = System.nanoTime();
        List<List<Object>> rows = new ArrayList<>();
        for (ServerPool pool : runtime.pools().all()) {
            ServerPool.Stats stats = pool.stats();
            long maxWaitMicros = pool.maxWaitNanos(now) / 1000;
            rows.add(java.util.Arrays.asList(ConsoleDatabase.name(pool.key()), pool.key().user(),
                    count(clients, pool, ClientState.ACTIVE, ClientState.IDLE), count(clients, pool, ClientState.WAITING),
                    0, 0, stats.active(), 0, stats.cancelling(), stats.idle(), 0, 0, stats.connecting(),
                    (int) (maxWaitMicros / 1_000_000), (int) (maxWaitMicros % 1_000_000),
                    poolMode(modes(clients, pool)), null, pool.key().tenant()));
        }
        return Result.Rows.of(ShowTable.POOLS, rows);
    }

    private static final ClientState[] LOGGED_IN = {ClientState.ACTIVE, ClientState.IDLE, ClientState.WAITING};

    /** The clients of {@code pool} in any of {@code states}, on either port. */
    static int count(ClientCensus.Snapshot clients, ServerPool pool, ClientState... states) {
        int count = 0;
        for (PoolMode mode : PoolMode.values()) {
            for (ClientState state : states) {
                count += clients.count(pool, mode, state);
            }
        }
        return count;
    }

    /** The clients of {@code pool} that are logged in (idle, waiting or holding a server). */
    static int loggedIn(ClientCensus.Snapshot clients, ServerPool pool) {
        return count(clients, pool, LOGGED_IN);
    }

    /** The ports the pool's logged-in clients came in on. */
    private static Set<PoolMode> modes(ClientCensus.Snapshot clients, ServerPool pool) {
        Set<PoolMode> modes = EnumSet.noneOf(PoolMode.class);
        for (PoolMode mode : PoolMode.values()) {
            for (ClientState state : LOGGED_IN) {
                if (clients.count(pool, mode, state) > 0) {
                    modes.add(mode);
                }
            }
        }
        return modes;
    }

    /** The pooling mode(s) of the pool's clients now: a pool serves both ports ("session,transaction"). */
    static String poolMode(Set<PoolMode> modes) {
        if (modes.isEmpty()) {
            return null;
        }
        return String.join(",", modes.stream().map(ShowPools::modeName).toList());
    }

    static String modeName(PoolMode mode) {
        return mode.name().toLowerCase(java.util.Locale.ROOT);
    }
}
