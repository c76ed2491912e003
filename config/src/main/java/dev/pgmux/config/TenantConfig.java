package dev.pgmux.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One tenant: an upstream Postgres, the users allowed in, and how its pools behave. Pools are
 * kept per (tenant, database, user); the sizes below apply to each such pool.
 *
 * @param id                 what clients put after the last dot of their user name
 * @param upstream           the Postgres server behind this tenant
 * @param poolSize           most server connections per pool
 * @param minIdle            idle server connections kept open per pool
 * @param maxClients         most client connections for the whole tenant
 * @param checkoutTimeout    how long a client waits for a server before it gets an error
 * @param connectTimeout     connecting and authenticating to the upstream
 * @param idleTimeout        servers idle longer than this are closed; zero means never
 * @param maxLifetime        servers older than this are closed when returned; zero means never
 * @param serverResetQuery   run on a server before another client gets it; empty means none
 * @param users              who may log in
 * @param preparedStatements how named prepared statements are handled in transaction mode
 * @param databases          the databases clients may name; empty means the upstream's database only
 * @param authQuery          looking up users the tenant does not list, upstream
 * @param access             the client networks and TLS the tenant accepts
 */
public record TenantConfig(
        String id,
        UpstreamConfig upstream,
        int poolSize,
        int minIdle,
        int maxClients,
        Duration checkoutTimeout,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration maxLifetime,
        String serverResetQuery,
        List<UserConfig> users,
        PreparedStatementsConfig preparedStatements,
        List<String> databases,
        Optional<AuthQueryConfig> authQuery,
        AccessConfig access) {

    public static final int DEFAULT_POOL_SIZE = 20;
    public static final int DEFAULT_MIN_IDLE = 0;
    public static final int DEFAULT_MAX_CLIENTS = 1000;
    public static final Duration DEFAULT_CHECKOUT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(1);
    public static final String DEFAULT_SERVER_RESET_QUERY = "DISCARD ALL";

    public TenantConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(checkoutTimeout, "checkoutTimeout");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        Objects.requireNonNull(serverResetQuery, "serverResetQuery");
        users = List.copyOf(users);
        Objects.requireNonNull(preparedStatements, "preparedStatements");
        databases = List.copyOf(databases);
        Objects.requireNonNull(authQuery, "authQuery");
        Objects.requireNonNull(access, "access");
    }

    /** A tenant with every pool and prepared statement setting at its default. */
    public static TenantConfig of(String id, UpstreamConfig upstream, List<UserConfig> users) {
        return new TenantConfig(id, upstream, DEFAULT_POOL_SIZE, DEFAULT_MIN_IDLE, DEFAULT_MAX_CLIENTS,
                DEFAULT_CHECKOUT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LIFETIME,
                DEFAULT_SERVER_RESET_QUERY, users, PreparedStatementsConfig.defaults(), List.of(), Optional.empty(),
                AccessConfig.open());
    }

    public static TenantConfig of(String id, UpstreamConfig upstream, UserConfig... users) {
        return of(id, upstream, List.of(users));
    }

    /** The user with this exact name. */
    public Optional<UserConfig> user(String name) {
        for (UserConfig user : users) {
            if (user.name().equals(name)) {
                return Optional.of(user);
            }
        }
        return Optional.empty();
    }

    public TenantConfig withUpstream(UpstreamConfig upstream) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withPoolSize(int poolSize) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withMinIdle(int minIdle) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withMaxClients(int maxClients) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withCheckoutTimeout(Duration checkoutTimeout) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withConnectTimeout(Duration connectTimeout) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withIdleTimeout(Duration idleTimeout) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withMaxLifetime(Duration maxLifetime) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withServerResetQuery(String serverResetQuery) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withUsers(List<UserConfig> users) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    /**
     * The databases a client may name: those configured, or the upstream's own database when none are. Each
     * has its pools, so this also bounds how many pools the tenant can have.
     */
    public List<String> allowedDatabases() {
        return databases.isEmpty() ? List.of(upstream.database()) : databases;
    }

    public TenantConfig withDatabases(List<String> databases) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withPreparedStatements(PreparedStatementsConfig preparedStatements) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }

    public TenantConfig withAuthQuery(AuthQueryConfig authQuery) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases,
                Optional.of(authQuery), access);
    }

    public TenantConfig withAccess(AccessConfig access) {
        return new TenantConfig(id, upstream, poolSize, minIdle, maxClients, checkoutTimeout, connectTimeout,
                idleTimeout, maxLifetime, serverResetQuery, users, preparedStatements, databases, authQuery, access);
    }
}
