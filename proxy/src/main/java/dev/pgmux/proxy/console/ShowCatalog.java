package dev.pgmux.proxy.console;

import dev.pgmux.config.PoolMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.metrics.ClientCensus;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SHOW DATABASES, USERS, TENANTS and LISTS: what is configured, with what is in use now. A pgmux database
 * is a tenant's database ({@code database.tenant}); a user is a tenant's user, named as clients log in
 * ({@code user.tenant}). Limits PgBouncer has and pgmux does not (per-database and per-user server limits)
 * read 0, PgBouncer's "unlimited".
 */
final class ShowCatalog {
    private ShowCatalog() {}

    static Result.Rows databases(ProxyRuntime runtime) {
        Map<String, int[]> use = new HashMap<>(); // database name -> {servers, clients}
        for (ServerPool pool : runtime.pools().all()) {
            use.computeIfAbsent(ConsoleDatabase.name(pool.key()), k -> new int[2])[0] += pool.stats().open();
        }
        ClientCensus.Snapshot clients = ClientCensus.take(runtime.clients());
        for (ServerPool pool : clients.pools()) {
            use.computeIfAbsent(ConsoleDatabase.name(pool.key()), k -> new int[2])[1] += ShowPools.loggedIn(clients, pool);
        }
        List<List<Object>> rows = new ArrayList<>();
        for (ConsoleDatabase database : ConsoleDatabase.all(runtime.tenants())) {
            TenantConfig config = database.tenant().config();
            int[] now = use.getOrDefault(database.name(), new int[2]);
            boolean paused = runtime.pools().admin().isPaused(database.poolDatabase());
            rows.add(Arrays.asList(database.name(), config.upstream().host(), config.upstream().port(),
                    database.database(), null, config.poolSize(), config.minIdle(), 0,
                    (int) config.maxLifetime().toSeconds(), null, null, 0, now[0], config.maxClients(), now[1],
                    paused ? 1 : 0, 0, database.tenant().id()));
        }
        return Result.Rows.of(ShowTable.DATABASES, rows);
    }

    static Result.Rows users(ProxyRuntime runtime) {
        Map<String, int[]> use = new HashMap<>(); // user.tenant -> {servers, clients}
        for (ServerPool pool : runtime.pools().all()) {
            use.computeIfAbsent(pool.key().user() + "." + pool.key().tenant(), k -> new int[2])[0] += pool.stats().open();
        }
        ClientCensus.Snapshot clients = ClientCensus.take(runtime.clients());
        for (ServerPool pool : clients.pools()) {
            use.computeIfAbsent(pool.key().user() + "." + pool.key().tenant(), k -> new int[2])[1]
                    += ShowPools.loggedIn(clients, pool);
        }
        List<List<Object>> rows = new ArrayList<>();
        for (Tenant tenant : runtime.tenants().all()) {
            for (UserConfig user : tenant.config().users()) {
                String name = user.name() + "." + tenant.id();
                int[] now = use.getOrDefault(name, new int[2]);
                // pool_mode: the user's own, or NULL where the port decides (as PgBouncer shows a user without one).
                String poolMode = user.poolMode().map(mode -> mode.configName()).orElse(null);
                rows.add(Arrays.asList(name, String.valueOf(tenant.config().poolSize()), "", poolMode, 0, now[0], 0, now[1]));
            }
        }
        return Result.Rows.of(ShowTable.USERS, rows);
    }

    static Result.Rows tenants(ProxyRuntime runtime) {
        Map<String, Integer> pools = new HashMap<>();
        for (ServerPool pool : runtime.pools().all()) {
            pools.merge(pool.key().tenant(), 1, Integer::sum);
        }
        List<List<Object>> rows = new ArrayList<>();
        for (Tenant tenant : runtime.tenants().all()) {
            TenantConfig config = tenant.config();
            rows.add(Arrays.asList(tenant.id(), config.upstream().host(), config.upstream().port(),
                    config.upstream().database(), String.join(",", config.allowedDatabases()), config.poolSize(),
                    config.minIdle(), config.maxClients(), tenant.clients(), config.users().size(),
                    pools.getOrDefault(tenant.id(), 0), config.preparedStatements().mode().configName()));
        }
        return Result.Rows.of(ShowTable.TENANTS, rows);
    }

    /**
     * The other live instances of the metadata database, in PgBouncer's columns: {@code peer_id} is the prefix
     * of the cancel keys the peer makes up (0 while it has none), host and port are where cancel requests reach
     * it, and {@code pool_size} is 0 (pgmux opens a connection per cancel request it passes on, and keeps none).
     */
    static Result.Rows peers(ProxyRuntime runtime) {
        List<List<Object>> rows = new ArrayList<>();
        for (dev.pgmux.proxy.cluster.MetadataStore.Peer peer : runtime.peerCancels().peers()) {
            rows.add(Arrays.asList(peer.keyPrefix(), peer.host(), peer.port(), 0));
        }
        return Result.Rows.of(ShowTable.PEERS, rows);
    }

    /** PgBouncer's internal lists, as far as pgmux has them (no peer pools, no DNS cache, no free-object caches). */
    static Result.Rows lists(ProxyRuntime runtime) {
        int databases = ConsoleDatabase.all(runtime.tenants()).size();
        int users = 0;
        for (Tenant tenant : runtime.tenants().all()) {
            users += tenant.config().users().size();
        }
        int pools = 0;
        int servers = 0;
        for (ServerPool pool : runtime.pools().all()) {
            pools++;
            servers += pool.stats().open();
        }
        ClientCensus.Snapshot census = ClientCensus.take(runtime.clients());
        int clients = 0;
        int login = 0;
        for (PoolMode mode : PoolMode.values()) {
            for (ClientState state : ClientState.values()) {
                clients += census.count(mode, state);
            }
            login += census.count(mode, ClientState.LOGIN);
        }
        List<List<Object>> rows = new ArrayList<>();
        for (Object[] row : new Object[][] {{"databases", databases}, {"users", users}, {"peers", runtime.peerCancels().peers().size()}, {"pools", pools},
                {"peer_pools", 0}, {"free_clients", 0}, {"used_clients", clients}, {"login_clients", login},
                {"free_servers", 0}, {"used_servers", servers}, {"dns_names", 0}, {"dns_zones", 0},
                {"dns_queries", 0}, {"dns_pending", 0}}) {
            rows.add(Arrays.asList(row));
        }
        return Result.Rows.of(ShowTable.LISTS, rows);
    }
}
