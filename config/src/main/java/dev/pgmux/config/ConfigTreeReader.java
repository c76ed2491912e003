package dev.pgmux.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns the YAML tree into configuration records. It checks shape only (known keys, types,
 * formats); the rules between values are {@link ConfigValidator}'s. Key names here are the
 * documented ones, in the order the documentation lists them.
 */
final class ConfigTreeReader {

    static final List<String> TOP_KEYS = List.of("listen", "admin", "tls", "limits", "log", "default_tenant", "tenants",
            "admin_users", "stats_users", "cluster");
    static final List<String> CLUSTER_KEYS = List.of("metadata_url", "refresh_interval", "instance_id", "peer_address",
            "instance_timeout");
    static final List<String> ADMIN_KEYS = List.of("host", "metrics_token", "api_jwt_secret");
    static final List<String> LISTEN_KEYS = List.of("host", "transaction_port", "session_port", "admin_port", "io_threads",
            "transport", "reuse_port", "proxy_protocol", "proxy_protocol_networks");
    static final List<String> TLS_KEYS = List.of("mode", "cert_file", "key_file", "self_signed");
    static final List<String> LIMITS_KEYS = List.of("max_frame_size", "max_startup_packet_size", "login_timeout",
            "server_keepalive_idle", "server_keepalive_interval", "server_keepalive_count", "shutdown_timeout");
    static final List<String> LOG_KEYS = List.of("format", "level", "log_connections", "log_disconnections",
            "stats_period", "repeat_interval");
    static final List<String> TENANT_KEYS = List.of("id", "upstream", "pool_size", "min_idle", "max_clients",
            "checkout_timeout", "connect_timeout", "idle_timeout", "max_lifetime", "server_reset_query",
            "prepared_statements", "max_prepared_statements", "max_client_prepared_statements",
            "cache_unnamed_statements", "unnamed_statement_plans", "users", "databases",
            "auth_user", "auth_query", "auth_cache_ttl", "auth_failure_ttl", "allow_list", "require_tls");
    static final List<String> UPSTREAM_KEYS = List.of("host", "port", "database", "sslmode", "sslrootcert", "sslcert", "sslkey");
    static final List<String> USER_KEYS = List.of("name", "password", "pool_mode");
    static final List<String> CONSOLE_USER_KEYS = List.of("name", "password");

    /** What the top of the file holds, before the rules between values are checked. */
    record Parts(ListenConfig listen, TlsConfig tls, LimitsConfig limits, Optional<String> defaultTenant,
                 List<TenantConfig> tenants, AdminConfig admin, ConsoleConfig console, LogConfig log,
                 ClusterConfig cluster) {
    }

    private ConfigTreeReader() {
    }

    static Parts read(MappingReader root) {
        root.rejectUnknownKeys(TOP_KEYS);
        return new Parts(
                listen(root.mapping("listen")),
                tls(root.mapping("tls")),
                limits(root.mapping("limits")),
                root.optionalString("default_tenant").filter(id -> !id.isEmpty()),
                tenants(root),
                admin(root.mapping("admin")),
                new ConsoleConfig(users(root, "admin_users"), users(root, "stats_users")),
                log(root.mapping("log")),
                cluster(root.mapping("cluster")));
    }

    private static ClusterConfig cluster(MappingReader m) {
        m.rejectUnknownKeys(CLUSTER_KEYS);
        return new ClusterConfig(m.optionalString("metadata_url").filter(url -> !url.isBlank()),
                m.duration("refresh_interval", ClusterConfig.DEFAULT_REFRESH_INTERVAL),
                m.optionalString("instance_id").filter(id -> !id.isBlank()),
                m.optionalString("peer_address").filter(address -> !address.isBlank()),
                m.duration("instance_timeout", ClusterConfig.DEFAULT_INSTANCE_TIMEOUT));
    }

    /** The tenants of a document holding only {@code tenants:} (the metadata database's, one at a time). */
    static List<TenantConfig> tenantsOnly(MappingReader root) {
        root.rejectUnknownKeys(List.of("tenants"));
        return tenants(root);
    }

    private static AdminConfig admin(MappingReader m) {
        m.rejectUnknownKeys(ADMIN_KEYS);
        return new AdminConfig(
                m.optionalString("host").filter(host -> !host.isBlank()),
                m.optionalString("metrics_token").filter(token -> !token.isEmpty()),
                m.optionalString("api_jwt_secret").filter(secret -> !secret.isEmpty()));
    }

    private static ListenConfig listen(MappingReader m) {
        m.rejectUnknownKeys(LISTEN_KEYS);
        return new ListenConfig(
                m.string("host", ListenConfig.DEFAULT_HOST),
                m.integer("transaction_port", ListenConfig.DEFAULT_TRANSACTION_PORT),
                m.integer("session_port", ListenConfig.DEFAULT_SESSION_PORT),
                m.integer("admin_port", ListenConfig.DEFAULT_ADMIN_PORT),
                m.integer("io_threads", ListenConfig.AUTO_IO_THREADS),
                choice(m, "transport", IoTransport.values(), IoTransport::configName, IoTransport.AUTO),
                m.bool("reuse_port", false),
                new ProxyProtocolConfig(
                        choice(m, "proxy_protocol", ProxyProtocolConfig.Mode.values(), ProxyProtocolConfig.Mode::configName,
                                ProxyProtocolConfig.Mode.OFF),
                        m.strings("proxy_protocol_networks")));
    }

    private static TlsConfig tls(MappingReader m) {
        m.rejectUnknownKeys(TLS_KEYS);
        return new TlsConfig(
                choice(m, "mode", TlsMode.values(), TlsMode::configName, TlsMode.DISABLED),
                m.optionalPath("cert_file"),
                m.optionalPath("key_file"),
                m.bool("self_signed", false));
    }

    /**
     * A value out of a fixed set, as written in the file (case and surrounding blanks ignored). An unknown
     * one is reported, and read as the default so that reading goes on.
     */
    private static <E> E choice(MappingReader m, String key, E[] values, Function<E, String> name, E fallback) {
        Optional<String> text = m.optionalString(key);
        if (text.isEmpty()) {
            return fallback;
        }
        String wanted = text.get().trim().toLowerCase(Locale.ROOT);
        for (E value : values) {
            if (name.apply(value).equals(wanted)) {
                return value;
            }
        }
        m.report(key, "must be one of " + Arrays.stream(values).map(name).collect(Collectors.joining(", "))
                + ", got \"" + text.get() + "\"");
        return fallback;
    }

    /** A value out of a fixed set, or empty when the key is absent or blank (or its value unknown: reported). */
    private static <E> Optional<E> optionalChoice(MappingReader m, String key, E[] values, Function<E, String> name) {
        if (m.optionalString(key).filter(text -> !text.isBlank()).isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(choice(m, key, values, name, null));
    }

    private static LimitsConfig limits(MappingReader m) {
        m.rejectUnknownKeys(LIMITS_KEYS);
        return new LimitsConfig(
                m.size("max_frame_size", LimitsConfig.DEFAULT_MAX_FRAME_SIZE, LimitsConfig.MAX_FRAME_SIZE_LIMIT),
                m.size("max_startup_packet_size", LimitsConfig.DEFAULT_MAX_STARTUP_PACKET_SIZE,
                        LimitsConfig.MAX_STARTUP_PACKET_SIZE_LIMIT),
                m.duration("login_timeout", LimitsConfig.DEFAULT_LOGIN_TIMEOUT),
                new LimitsConfig.Keepalive(
                        m.duration("server_keepalive_idle", LimitsConfig.Keepalive.DEFAULT.idle()),
                        m.duration("server_keepalive_interval", LimitsConfig.Keepalive.DEFAULT.interval()),
                        m.integer("server_keepalive_count", LimitsConfig.Keepalive.DEFAULT.count())),
                m.duration("shutdown_timeout", LimitsConfig.DEFAULT_SHUTDOWN_TIMEOUT));
    }

    private static LogConfig log(MappingReader m) {
        m.rejectUnknownKeys(LOG_KEYS);
        return new LogConfig(
                choice(m, "format", LogFormat.values(), LogFormat::configName, LogConfig.DEFAULT_FORMAT),
                optionalChoice(m, "level", LogLevel.values(), LogLevel::configName),
                m.bool("log_connections", LogConfig.DEFAULT_LOG_CONNECTIONS),
                m.bool("log_disconnections", LogConfig.DEFAULT_LOG_DISCONNECTIONS),
                m.duration("stats_period", LogConfig.DEFAULT_STATS_PERIOD),
                m.duration("repeat_interval", LogConfig.DEFAULT_REPEAT_INTERVAL));
    }

    private static List<TenantConfig> tenants(MappingReader root) {
        List<TenantConfig> tenants = new ArrayList<>();
        for (MappingReader m : root.mappings("tenants")) {
            tenants.add(tenant(m));
        }
        return tenants;
    }

    private static TenantConfig tenant(MappingReader m) {
        m.rejectUnknownKeys(TENANT_KEYS);
        return new TenantConfig(
                m.requiredString("id"),
                upstream(m.mapping("upstream")),
                m.integer("pool_size", TenantConfig.DEFAULT_POOL_SIZE),
                m.integer("min_idle", TenantConfig.DEFAULT_MIN_IDLE),
                m.integer("max_clients", TenantConfig.DEFAULT_MAX_CLIENTS),
                m.duration("checkout_timeout", TenantConfig.DEFAULT_CHECKOUT_TIMEOUT),
                m.duration("connect_timeout", TenantConfig.DEFAULT_CONNECT_TIMEOUT),
                m.duration("idle_timeout", TenantConfig.DEFAULT_IDLE_TIMEOUT),
                m.duration("max_lifetime", TenantConfig.DEFAULT_MAX_LIFETIME),
                m.string("server_reset_query", TenantConfig.DEFAULT_SERVER_RESET_QUERY),
                tenantUsers(m),
                preparedStatements(m),
                m.strings("databases"),
                authQuery(m),
                new AccessConfig(m.strings("allow_list"),
                        m.has("require_tls") ? Optional.of(m.bool("require_tls", false)) : Optional.empty()));
    }

    /** auth_user and the settings that only mean something with it. */
    private static Optional<AuthQueryConfig> authQuery(MappingReader tenant) {
        if (!tenant.has("auth_user")) {
            for (String key : List.of("auth_query", "auth_cache_ttl", "auth_failure_ttl")) {
                if (tenant.has(key)) {
                    tenant.report(key, "has no effect without auth_user (the user that runs the query)");
                }
            }
            return Optional.empty();
        }
        MappingReader user = tenant.mapping("auth_user");
        user.rejectUnknownKeys(CONSOLE_USER_KEYS);
        return Optional.of(new AuthQueryConfig(
                new UserConfig(user.requiredString("name"), user.requiredString("password")),
                tenant.string("auth_query", AuthQueryConfig.DEFAULT_QUERY),
                tenant.duration("auth_cache_ttl", AuthQueryConfig.DEFAULT_CACHE_TTL),
                tenant.duration("auth_failure_ttl", AuthQueryConfig.DEFAULT_FAILURE_TTL)));
    }

    private static PreparedStatementsConfig preparedStatements(MappingReader tenant) {
        return new PreparedStatementsConfig(
                choice(tenant, "prepared_statements", PreparedStatementMode.values(), PreparedStatementMode::configName,
                        PreparedStatementsConfig.DEFAULT_MODE),
                tenant.integer("max_prepared_statements", PreparedStatementsConfig.DEFAULT_MAX_PER_SERVER),
                tenant.integer("max_client_prepared_statements", PreparedStatementsConfig.DEFAULT_MAX_PER_CLIENT),
                tenant.bool("cache_unnamed_statements", PreparedStatementsConfig.DEFAULT_CACHE_UNNAMED),
                choice(tenant, "unnamed_statement_plans", UnnamedStatementPlans.values(), UnnamedStatementPlans::configName,
                        PreparedStatementsConfig.DEFAULT_UNNAMED_PLANS));
    }

    private static UpstreamConfig upstream(MappingReader m) {
        m.rejectUnknownKeys(UPSTREAM_KEYS);
        return new UpstreamConfig(
                m.requiredString("host"),
                m.integer("port", UpstreamConfig.DEFAULT_PORT),
                m.string("database", UpstreamConfig.DEFAULT_DATABASE),
                new UpstreamTls(
                        choice(m, "sslmode", SslMode.values(), SslMode::configName, SslMode.DEFAULT),
                        m.optionalString("sslrootcert").filter(text -> !text.isEmpty()),
                        m.optionalPath("sslcert"),
                        m.optionalPath("sslkey")));
    }

    /** A tenant's users: {name, password, pool_mode}. */
    private static List<UserConfig> tenantUsers(MappingReader tenant) {
        List<UserConfig> users = new ArrayList<>();
        for (MappingReader m : tenant.mappings("users")) {
            m.rejectUnknownKeys(USER_KEYS);
            users.add(new UserConfig(m.requiredString("name"), m.requiredString("password"),
                    optionalChoice(m, "pool_mode", PoolMode.values(), PoolMode::configName)));
        }
        return users;
    }

    /** A list of {name, password} under {@code key}: the console's users. */
    private static List<UserConfig> users(MappingReader parent, String key) {
        List<UserConfig> users = new ArrayList<>();
        for (MappingReader m : parent.mappings(key)) {
            m.rejectUnknownKeys(CONSOLE_USER_KEYS);
            users.add(new UserConfig(m.requiredString("name"), m.requiredString("password")));
        }
        return users;
    }
}
