package dev.pgmux.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole configuration of a pgmux process. Every instance is valid: the constructor checks
 * all rules and throws a {@link ConfigException} listing each broken one, whether the values
 * came from a file ({@link ConfigLoader}), a URL ({@link UpstreamUrl}) or code.
 *
 * @param listen        where pgmux listens
 * @param tls           TLS towards clients
 * @param limits        message sizes and login time
 * @param defaultTenant the tenant that serves user names without a {@code .tenant} suffix
 * @param tenants       at least one, with unique ids
 * @param admin         the admin HTTP listener
 * @param console       who may log in to the admin console (admin_users, stats_users)
 * @param log           what pgmux logs and how
 * @param cluster       the metadata database tenants may also come from
 */
public record PgmuxConfig(
        ListenConfig listen,
        TlsConfig tls,
        LimitsConfig limits,
        Optional<String> defaultTenant,
        List<TenantConfig> tenants,
        AdminConfig admin,
        ConsoleConfig console,
        LogConfig log,
        ClusterConfig cluster) {

    public PgmuxConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(defaultTenant, "defaultTenant");
        tenants = List.copyOf(tenants);
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(console, "console");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(cluster, "cluster");
        Problems problems = new Problems();
        ConfigValidator.validate(listen, tls, limits, defaultTenant, tenants, admin, problems);
        ConfigValidator.validate(cluster, tenants, problems);
        ConfigValidator.validateApi(admin, cluster, problems);
        ConsoleValidator.validate(console, tenants, problems);
        LogConfig.validate(log, problems);
        problems.throwIfAny("invalid configuration");
    }

    /** A configuration whose tenants all come from the file (or the code). */
    public PgmuxConfig(ListenConfig listen, TlsConfig tls, LimitsConfig limits, Optional<String> defaultTenant,
                       List<TenantConfig> tenants, AdminConfig admin, ConsoleConfig console, LogConfig log) {
        this(listen, tls, limits, defaultTenant, tenants, admin, console, log, ClusterConfig.none());
    }

    /** A configuration with the default log settings. */
    public PgmuxConfig(ListenConfig listen, TlsConfig tls, LimitsConfig limits, Optional<String> defaultTenant,
                       List<TenantConfig> tenants, AdminConfig admin, ConsoleConfig console) {
        this(listen, tls, limits, defaultTenant, tenants, admin, console, LogConfig.defaults());
    }

    /** A configuration with the default admin listener and without console users. */
    public PgmuxConfig(ListenConfig listen, TlsConfig tls, LimitsConfig limits, Optional<String> defaultTenant,
                       List<TenantConfig> tenants) {
        this(listen, tls, limits, defaultTenant, tenants, AdminConfig.defaults(), ConsoleConfig.none());
    }

    /** Default listeners, no TLS, default limits, no default tenant. */
    public static PgmuxConfig of(List<TenantConfig> tenants) {
        return new PgmuxConfig(ListenConfig.defaults(), TlsConfig.disabled(), LimitsConfig.defaults(),
                Optional.empty(), tenants);
    }

    public static PgmuxConfig of(TenantConfig... tenants) {
        return of(List.of(tenants));
    }

    /** Like {@link #of(List)} but every listener on a free port chosen by the operating system. */
    public static PgmuxConfig ephemeral(List<TenantConfig> tenants) {
        return of(tenants).withListen(ListenConfig.ephemeral());
    }

    public static PgmuxConfig ephemeral(TenantConfig... tenants) {
        return ephemeral(List.of(tenants));
    }

    /** The tenant with this exact id. */
    public Optional<TenantConfig> tenant(String id) {
        for (TenantConfig tenant : tenants) {
            if (tenant.id().equals(id)) {
                return Optional.of(tenant);
            }
        }
        return Optional.empty();
    }

    public PgmuxConfig withListen(ListenConfig listen) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withTls(TlsConfig tls) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withLimits(LimitsConfig limits) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withDefaultTenant(String tenantId) {
        return new PgmuxConfig(listen, tls, limits, Optional.of(tenantId), tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withoutDefaultTenant() {
        return new PgmuxConfig(listen, tls, limits, Optional.empty(), tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withTenants(List<TenantConfig> tenants) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withAdmin(AdminConfig admin) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withConsole(ConsoleConfig console) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withLog(LogConfig log) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }

    public PgmuxConfig withCluster(ClusterConfig cluster) {
        return new PgmuxConfig(listen, tls, limits, defaultTenant, tenants, admin, console, log, cluster);
    }
}
