package dev.pgmux.proxy.tenant;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;

import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Routes a startup user name to a tenant. As in Supavisor, {@code user.tenant} is split at the last dot;
 * a name without a dot belongs to the default tenant, if one is configured.
 *
 * <p>A reload ({@link #update}) changes tenants in place: a tenant still configured keeps its {@link Tenant}
 * object (its connected clients and their count), a user whose password is unchanged keeps its SCRAM secret
 * (and, for a verifier, the ClientKey learnt from clients),
 * new tenants appear, and removed ones are no longer found, so new logins to them get the same answer as an
 * unknown tenant while their connected clients carry on.
 */
public final class TenantRegistry {
    /** What a startup user name resolves to. */
    public sealed interface Resolution {
        record Found(Tenant tenant, String userName) implements Resolution {}

        record NotFound(String tenantId) implements Resolution {}
    }

    /** The tenants by id and the default one, replaced together. */
    private record Routing(Map<String, Tenant> tenants, Optional<String> defaultTenant) {}

    private final SecureRandom random;
    private volatile Routing routing;
    /** Whether max_clients is shared with other instances through leases: a new tenant then admits nobody until its first lease. */
    private volatile boolean leased;

    public TenantRegistry(PgmuxConfig config, SecureRandom random) {
        this.random = random;
        this.routing = routing(config, Map.of());
    }

    /** From now on, new tenants start with no client slots until their lease grants some (see SlotLeases). */
    public void leased() {
        this.leased = true;
    }

    /** Applies a reloaded configuration; the caller serialises reloads. */
    public synchronized void update(PgmuxConfig config) {
        this.routing = routing(config, routing.tenants());
    }

    private Routing routing(PgmuxConfig config, Map<String, Tenant> previous) {
        Map<String, Tenant> tenants = new LinkedHashMap<>();
        for (TenantConfig tenantConfig : config.tenants()) {
            Tenant existing = previous.get(tenantConfig.id());
            Map<String, Tenant.User> before = existing == null ? Map.of() : existing.users();
            Map<String, Tenant.User> users = users(tenantConfig, before);
            Tenant.User authUser = authUser(tenantConfig, users, before, existing == null ? null : existing.authUser());
            if (authUser != null) {
                users.putIfAbsent(authUser.name(), authUser);
            }
            if (existing == null) {
                Tenant tenant = new Tenant(tenantConfig, users, authUser);
                if (leased) {
                    tenant.clusterClientLimit(0);
                }
                tenants.put(tenantConfig.id(), tenant);
            } else {
                existing.update(tenantConfig, users, authUser);
                tenants.put(tenantConfig.id(), existing);
            }
        }
        return new Routing(Collections.unmodifiableMap(tenants), config.defaultTenant());
    }

    /** The tenant's users; one whose password is unchanged keeps its secret (and its object). */
    private Map<String, Tenant.User> users(TenantConfig tenantConfig, Map<String, Tenant.User> previous) {
        Map<String, Tenant.User> users = new LinkedHashMap<>();
        for (UserConfig user : tenantConfig.users()) {
            users.put(user.name(), user(user, previous.get(user.name())));
        }
        return users;
    }

    /**
     * The auth_user, which may also log in as a client of the tenant (that is how pgmux learns its ClientKey
     * when its password is a SCRAM verifier): the listed user of that name when the password is the same, so
     * both share one ClientKey, else a user of its own.
     */
    private Tenant.User authUser(TenantConfig tenantConfig, Map<String, Tenant.User> users,
                                 Map<String, Tenant.User> previousUsers, Tenant.User previous) {
        if (tenantConfig.authQuery().isEmpty()) {
            return null;
        }
        UserConfig config = tenantConfig.authQuery().get().user();
        Tenant.User listed = users.get(config.name());
        if (listed != null && listed.password().equals(config.password())) {
            return listed;
        }
        Tenant.User old = previous != null && previous.name().equals(config.name()) ? previous
                : previousUsers.get(config.name());
        return user(config, old);
    }

    private Tenant.User user(UserConfig user, Tenant.User old) {
        return old != null && old.password().equals(user.password()) ? old
                : Tenant.User.configured(user.name(), user.password(), random);
    }

    public Resolution resolve(String startupUser) {
        Routing current = routing;
        int dot = startupUser.lastIndexOf('.');
        if (dot > 0 && dot < startupUser.length() - 1) {
            String tenantId = startupUser.substring(dot + 1);
            Tenant tenant = current.tenants().get(tenantId);
            return tenant == null ? new Resolution.NotFound(tenantId)
                    : new Resolution.Found(tenant, startupUser.substring(0, dot));
        }
        if (current.defaultTenant().isPresent()) {
            return new Resolution.Found(current.tenants().get(current.defaultTenant().get()), startupUser);
        }
        return new Resolution.NotFound(null);
    }

    /** The configured tenant with this id, or null (never configured, or removed by a reload). */
    public Tenant find(String id) {
        return routing.tenants().get(id);
    }

    /** The configured tenants. */
    public Iterable<Tenant> all() {
        return routing.tenants().values();
    }
}
