package dev.pgmux.proxy.tenant;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Routes a startup user name to a tenant. As in Supavisor, {@code user.tenant} is split at the last dot;
 * a name without a dot belongs to the default tenant, if one is configured.
 */
public final class TenantRegistry {
    /** What a startup user name resolves to. */
    public sealed interface Resolution {
        record Found(Tenant tenant, String userName) implements Resolution {}

        record NotFound(String tenantId) implements Resolution {}
    }

    private final Map<String, Tenant> tenants = new LinkedHashMap<>();
    private final Optional<String> defaultTenant;

    public TenantRegistry(PgmuxConfig config, SecureRandom random) {
        for (TenantConfig tenantConfig : config.tenants()) {
            Map<String, Tenant.User> users = new LinkedHashMap<>();
            for (UserConfig user : tenantConfig.users()) {
                // A fresh salt per process: clients never see a stored secret, only this exchange's.
                users.put(user.name(), new Tenant.User(user.name(), user.password(),
                        ScramSecret.generate(user.password(), random)));
            }
            tenants.put(tenantConfig.id(), new Tenant(tenantConfig, users));
        }
        this.defaultTenant = config.defaultTenant();
    }

    public Resolution resolve(String startupUser) {
        int dot = startupUser.lastIndexOf('.');
        if (dot > 0 && dot < startupUser.length() - 1) {
            String tenantId = startupUser.substring(dot + 1);
            Tenant tenant = tenants.get(tenantId);
            return tenant == null ? new Resolution.NotFound(tenantId)
                    : new Resolution.Found(tenant, startupUser.substring(0, dot));
        }
        if (defaultTenant.isPresent()) {
            return new Resolution.Found(tenants.get(defaultTenant.get()), startupUser);
        }
        return new Resolution.NotFound(null);
    }

    public Iterable<Tenant> all() {
        return tenants.values();
    }
}
