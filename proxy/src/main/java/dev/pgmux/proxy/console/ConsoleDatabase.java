package dev.pgmux.proxy.console;

import dev.pgmux.proxy.pool.PoolAdmin;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.tenant.TenantRegistry;

import java.util.ArrayList;
import java.util.List;

/**
 * A database as the console names it: a tenant's database, written {@code database.tenant} like the
 * {@code user.tenant} clients log in with ({@code postgres.acme}). SHOW DATABASES lists them; PAUSE,
 * RESUME, RECONNECT, KILL and WAIT_CLOSE take them.
 */
public record ConsoleDatabase(Tenant tenant, String database) {

    public String name() {
        return name(tenant.id(), database);
    }

    static String name(String tenantId, String database) {
        return database + "." + tenantId;
    }

    static String name(PoolKey key) {
        return name(key.tenant(), key.database());
    }

    public PoolAdmin.Database poolDatabase() {
        return new PoolAdmin.Database(tenant.id(), database);
    }

    /** Every database of every tenant, in configuration order. */
    static List<ConsoleDatabase> all(TenantRegistry tenants) {
        List<ConsoleDatabase> all = new ArrayList<>();
        for (Tenant tenant : tenants.all()) {
            for (String database : tenant.config().allowedDatabases()) {
                all.add(new ConsoleDatabase(tenant, database));
            }
        }
        return all;
    }

    /** The database named {@code database.tenant} (split at the last dot: tenant ids have none), or null. */
    static ConsoleDatabase find(TenantRegistry tenants, String name) {
        int dot = name.lastIndexOf('.');
        if (dot <= 0) {
            return null;
        }
        String tenantId = name.substring(dot + 1);
        String database = name.substring(0, dot);
        for (Tenant tenant : tenants.all()) {
            if (tenant.id().equals(tenantId) && tenant.config().allowedDatabases().contains(database)) {
                return new ConsoleDatabase(tenant, database);
            }
        }
        return null;
    }
}
