package dev.pgmux.proxy.console;

import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.client.PoolingMode;
import dev.pgmux.proxy.pool.ServerPool;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SHOW POOLS: one row per pool, that is per (tenant, database, user). Client counts come from the clients
 * connected through the pool (active: holding a server or idle; waiting: queued for one), server counts
 * from the pool's own states. pgmux has no used or tested servers (a server is reset by the client that
 * used it) and sends cancels on connections of their own, so those columns are 0.
 */
final class ShowPools {
    private ShowPools() {}

    /** Per pool: its clients by state, and the modes (ports) they came in on. */
    record ClientCounts(int active, int waiting, Set<PoolingMode> modes) {}

    static Result.Rows rows(ProxyRuntime runtime) {
        Map<ServerPool, ClientCounts> clients = clientsByPool(runtime);
        long now = System.nanoTime();
        List<List<Object>> rows = new ArrayList<>();
        for (ServerPool pool : runtime.pools().all()) {
            ServerPool.Stats stats = pool.stats();
            ClientCounts counts = clients.getOrDefault(pool, new ClientCounts(0, 0, Set.of()));
            long maxWaitMicros = pool.maxWaitNanos(now) / 1000;
            rows.add(java.util.Arrays.asList(ConsoleDatabase.name(pool.key()), pool.key().user(),
                    counts.active(), counts.waiting(), 0, 0,
                    stats.active(), 0, stats.cancelling(), stats.idle(), 0, 0, stats.connecting(),
                    (int) (maxWaitMicros / 1_000_000), (int) (maxWaitMicros % 1_000_000),
                    poolMode(counts.modes()), null, pool.key().tenant()));
        }
        return Result.Rows.of(ShowTable.POOLS, rows);
    }

    static Map<ServerPool, ClientCounts> clientsByPool(ProxyRuntime runtime) {
        Map<ServerPool, int[]> counts = new HashMap<>();
        Map<ServerPool, Set<PoolingMode>> modes = new HashMap<>();
        for (ClientConnection client : runtime.clients().all()) {
            ServerPool pool = client.pool();
            ClientState state = client.state();
            if (pool == null || state == ClientState.LOGIN || state == ClientState.CLOSED) {
                continue;
            }
            int[] c = counts.computeIfAbsent(pool, p -> new int[2]);
            c[state == ClientState.WAITING ? 1 : 0]++;
            modes.computeIfAbsent(pool, p -> EnumSet.noneOf(PoolingMode.class)).add(client.mode());
        }
        Map<ServerPool, ClientCounts> result = new HashMap<>();
        counts.forEach((pool, c) -> result.put(pool, new ClientCounts(c[0], c[1], modes.get(pool))));
        return result;
    }

    /** The pooling mode(s) of the pool's clients now: a pool serves both ports ("session,transaction"). */
    static String poolMode(Set<PoolingMode> modes) {
        if (modes.isEmpty()) {
            return null;
        }
        return String.join(",", modes.stream().map(ShowPools::modeName).toList());
    }

    static String modeName(PoolingMode mode) {
        return mode.name().toLowerCase(java.util.Locale.ROOT);
    }
}
