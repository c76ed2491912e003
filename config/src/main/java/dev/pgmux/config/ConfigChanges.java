package dev.pgmux.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a reload would change: every setting that differs between the running configuration and a new one,
 * one line each, named by its path ({@code tenants[shop].pool_size: 20 -> 10}). Passwords are never shown,
 * only that one changed. The listeners ({@code listen.*}) cannot change in a running process: those lines
 * are {@link #needRestart}, and a reload keeps the running values.
 *
 * @param changes     settings a reload applies, in the order of the file's sections
 * @param needRestart settings that differ but take effect only when pgmux restarts
 */
public record ConfigChanges(List<String> changes, List<String> needRestart) {

    public ConfigChanges {
        changes = List.copyOf(changes);
        needRestart = List.copyOf(needRestart);
    }

    /** Whether the new configuration is the running one, as far as a reload can tell. */
    public boolean isEmpty() {
        return changes.isEmpty() && needRestart.isEmpty();
    }

    public static ConfigChanges between(PgmuxConfig running, PgmuxConfig next) {
        Lines restart = new Lines();
        listen(running.listen(), next.listen(), restart);
        restart.compare("cluster.metadata_url", running.cluster().metadataUrl().map(MetadataUrl::redacted).orElse("(none)"),
                next.cluster().metadataUrl().map(MetadataUrl::redacted).orElse("(none)"));
        restart.compare("cluster.refresh_interval", Durations.format(running.cluster().refreshInterval()),
                Durations.format(next.cluster().refreshInterval()));
        restart.compare("cluster.instance_id", running.cluster().instanceId().orElse("(default)"),
                next.cluster().instanceId().orElse("(default)"));
        restart.compare("cluster.peer_address", running.cluster().peerAddress().orElse("(default)"),
                next.cluster().peerAddress().orElse("(default)"));
        restart.compare("cluster.instance_timeout", Durations.format(running.cluster().instanceTimeout()),
                Durations.format(next.cluster().instanceTimeout()));
        restart.compare("admin.host", running.admin().host().orElse("(listen.host)"), next.admin().host().orElse("(listen.host)"));
        Lines lines = new Lines();
        lines.secret("admin.metrics_token", running.admin().metricsToken(), next.admin().metricsToken());
        lines.secret("admin.api_jwt_secret", running.admin().apiJwtSecret(), next.admin().apiJwtSecret());
        tls(running.tls(), next.tls(), lines);
        limits(running.limits(), next.limits(), lines);
        log(running.log(), next.log(), lines);
        lines.compare("default_tenant", running.defaultTenant().orElse("none"), next.defaultTenant().orElse("none"));
        tenants(running.tenants(), next.tenants(), lines);
        users("admin_", running.console().adminUsers(), next.console().adminUsers(), lines); // admin_users[name]
        users("stats_", running.console().statsUsers(), next.console().statsUsers(), lines);
        return new ConfigChanges(lines.lines, restart.lines.stream()
                .map(line -> line + " (needs a restart; the running value is kept)").toList());
    }

    private static void listen(ListenConfig a, ListenConfig b, Lines lines) {
        lines.compare("listen.host", a.host(), b.host());
        lines.compare("listen.transaction_port", a.transactionPort(), b.transactionPort());
        lines.compare("listen.session_port", a.sessionPort(), b.sessionPort());
        lines.compare("listen.admin_port", a.adminPort(), b.adminPort());
        lines.compare("listen.io_threads", a.ioThreads(), b.ioThreads());
        lines.compare("listen.transport", a.transport().configName(), b.transport().configName());
        lines.compare("listen.reuse_port", a.reusePort(), b.reusePort());
        lines.compare("listen.proxy_protocol", a.proxyProtocol().mode().configName(), b.proxyProtocol().mode().configName());
        lines.compare("listen.proxy_protocol_networks", a.proxyProtocol().networks(), b.proxyProtocol().networks());
    }

    private static void tls(TlsConfig a, TlsConfig b, Lines lines) {
        lines.compare("tls.mode", a.mode().configName(), b.mode().configName());
        lines.compare("tls.cert_file", path(a.certFile()), path(b.certFile()));
        lines.compare("tls.key_file", path(a.keyFile()), path(b.keyFile()));
        lines.compare("tls.self_signed", a.selfSigned(), b.selfSigned());
    }

    private static void limits(LimitsConfig a, LimitsConfig b, Lines lines) {
        lines.compare("limits.max_frame_size", Sizes.format(a.maxFrameSize()), Sizes.format(b.maxFrameSize()));
        lines.compare("limits.max_startup_packet_size", Sizes.format(a.maxStartupPacketSize()),
                Sizes.format(b.maxStartupPacketSize()));
        lines.compare("limits.login_timeout", Durations.format(a.loginTimeout()), Durations.format(b.loginTimeout()));
        LimitsConfig.Keepalive ka = a.serverKeepalive();
        LimitsConfig.Keepalive kb = b.serverKeepalive();
        lines.compare("limits.server_keepalive_idle", Durations.format(ka.idle()), Durations.format(kb.idle()));
        lines.compare("limits.server_keepalive_interval", Durations.format(ka.interval()), Durations.format(kb.interval()));
        lines.compare("limits.server_keepalive_count", ka.count(), kb.count());
        lines.compare("limits.shutdown_timeout", Durations.format(a.shutdownTimeout()), Durations.format(b.shutdownTimeout()));
    }

    private static void log(LogConfig a, LogConfig b, Lines lines) {
        lines.compare("log.format", a.format().configName(), b.format().configName());
        lines.compare("log.level", a.level().map(LogLevel::configName).orElse("default"),
                b.level().map(LogLevel::configName).orElse("default"));
        lines.compare("log.log_connections", a.logConnections(), b.logConnections());
        lines.compare("log.log_disconnections", a.logDisconnections(), b.logDisconnections());
        lines.compare("log.stats_period", Durations.format(a.statsPeriod()), Durations.format(b.statsPeriod()));
        lines.compare("log.repeat_interval", Durations.format(a.repeatInterval()), Durations.format(b.repeatInterval()));
    }

    private static void tenants(List<TenantConfig> running, List<TenantConfig> next, Lines lines) {
        Map<String, TenantConfig> before = byId(running, TenantConfig::id);
        Map<String, TenantConfig> after = byId(next, TenantConfig::id);
        for (TenantConfig tenant : running) {
            if (!after.containsKey(tenant.id())) {
                lines.add("tenants[" + tenant.id() + "]: removed");
            }
        }
        for (TenantConfig tenant : next) {
            TenantConfig old = before.get(tenant.id());
            if (old == null) {
                lines.add("tenants[" + tenant.id() + "]: added");
            } else {
                tenant(old, tenant, lines);
            }
        }
    }

    private static void tenant(TenantConfig a, TenantConfig b, Lines lines) {
        String p = "tenants[" + a.id() + "].";
        lines.compare(p + "upstream.host", a.upstream().host(), b.upstream().host());
        lines.compare(p + "upstream.port", a.upstream().port(), b.upstream().port());
        lines.compare(p + "upstream.database", a.upstream().database(), b.upstream().database());
        UpstreamTls ta = a.upstream().tls();
        UpstreamTls tb = b.upstream().tls();
        lines.compare(p + "upstream.sslmode", ta.mode().configName(), tb.mode().configName());
        lines.compare(p + "upstream.sslrootcert", ta.rootCert().orElse("none"), tb.rootCert().orElse("none"));
        lines.compare(p + "upstream.sslcert", path(ta.cert()), path(tb.cert()));
        lines.compare(p + "upstream.sslkey", path(ta.key()), path(tb.key()));
        lines.compare(p + "pool_size", a.poolSize(), b.poolSize());
        lines.compare(p + "min_idle", a.minIdle(), b.minIdle());
        lines.compare(p + "max_clients", a.maxClients(), b.maxClients());
        lines.compare(p + "checkout_timeout", Durations.format(a.checkoutTimeout()), Durations.format(b.checkoutTimeout()));
        lines.compare(p + "connect_timeout", Durations.format(a.connectTimeout()), Durations.format(b.connectTimeout()));
        lines.compare(p + "idle_timeout", Durations.format(a.idleTimeout()), Durations.format(b.idleTimeout()));
        lines.compare(p + "max_lifetime", Durations.format(a.maxLifetime()), Durations.format(b.maxLifetime()));
        lines.compare(p + "server_reset_query", quoted(a.serverResetQuery()), quoted(b.serverResetQuery()));
        PreparedStatementsConfig pa = a.preparedStatements();
        PreparedStatementsConfig pb = b.preparedStatements();
        lines.compare(p + "prepared_statements", pa.mode().configName(), pb.mode().configName());
        lines.compare(p + "max_prepared_statements", pa.maxPerServer(), pb.maxPerServer());
        lines.compare(p + "max_client_prepared_statements", pa.maxPerClient(), pb.maxPerClient());
        lines.compare(p + "cache_unnamed_statements", pa.cacheUnnamed(), pb.cacheUnnamed());
        lines.compare(p + "unnamed_statement_plans", pa.unnamedPlans().configName(), pb.unnamedPlans().configName());
        lines.compare(p + "databases", a.allowedDatabases(), b.allowedDatabases());
        users(p, a.users(), b.users(), lines);
        authQuery(p, a.authQuery(), b.authQuery(), lines);
        lines.compare(p + "allow_list", a.access().allowList(), b.access().allowList());
        lines.compare(p + "require_tls", a.access().requireTls().map(String::valueOf).orElse("(tls.mode)"),
                b.access().requireTls().map(String::valueOf).orElse("(tls.mode)"));
    }

    private static void authQuery(String p, Optional<AuthQueryConfig> a, Optional<AuthQueryConfig> b, Lines lines) {
        if (a.isEmpty() || b.isEmpty()) {
            if (a.isPresent() != b.isPresent()) {
                lines.add(p + "auth_user: " + (a.isEmpty() ? "set" : "removed"));
            }
            return;
        }
        AuthQueryConfig x = a.get();
        AuthQueryConfig y = b.get();
        lines.compare(p + "auth_user.name", x.user().name(), y.user().name());
        if (!x.user().password().equals(y.user().password())) {
            lines.add(p + "auth_user.password: changed");
        }
        lines.compare(p + "auth_query", quoted(x.query()), quoted(y.query()));
        lines.compare(p + "auth_cache_ttl", Durations.format(x.cacheTtl()), Durations.format(y.cacheTtl()));
        lines.compare(p + "auth_failure_ttl", Durations.format(x.failureTtl()), Durations.format(y.failureTtl()));
    }

    private static void users(String p, List<UserConfig> running, List<UserConfig> next, Lines lines) {
        Map<String, UserConfig> before = byId(running, UserConfig::name);
        Map<String, UserConfig> after = byId(next, UserConfig::name);
        for (UserConfig user : running) {
            if (!after.containsKey(user.name())) {
                lines.add(p + "users[" + user.name() + "]: removed");
            }
        }
        for (UserConfig user : next) {
            UserConfig old = before.get(user.name());
            if (old == null) {
                lines.add(p + "users[" + user.name() + "]: added");
            } else {
                if (!old.password().equals(user.password())) {
                    lines.add(p + "users[" + user.name() + "].password: changed");
                }
                lines.compare(p + "users[" + user.name() + "].pool_mode",
                        old.poolMode().map(PoolMode::configName).orElse("(port)"),
                        user.poolMode().map(PoolMode::configName).orElse("(port)"));
            }
        }
    }

    private static <T> Map<String, T> byId(List<T> items, Function<T, String> id) {
        Map<String, T> map = new LinkedHashMap<>();
        items.forEach(item -> map.put(id.apply(item), item));
        return map;
    }

    private static String path(Optional<java.nio.file.Path> path) {
        return path.map(Object::toString).orElse("none");
    }

    private static String quoted(String text) {
        return "\"" + text + "\"";
    }

    private static final class Lines {
        final List<String> lines = new ArrayList<>();

        void compare(String path, Object before, Object after) {
            if (!Objects.equals(before, after)) {
                lines.add(path + ": " + before + " -> " + after);
            }
        }

        void add(String line) {
            lines.add(line);
        }

        /** A secret's change, never its value. */
        void secret(String path, Optional<String> before, Optional<String> after) {
            if (!before.equals(after)) {
                lines.add(path + ": " + (before.isEmpty() ? "set" : after.isEmpty() ? "removed" : "changed"));
            }
        }
    }
}
