package dev.pgmux.proxy.tenant;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.protocol.auth.ScramSecret;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** A configured tenant at run time: its users' SCRAM secrets and its count of connected clients. */
public final class Tenant {
    /** A user of the tenant; the secret authenticates clients, the password logs in upstream. */
    public record User(String name, String password, ScramSecret secret) {
        @Override
        public String toString() {
            return "User[" + name + "]";
        }
    }

    private final TenantConfig config;
    private final Map<String, User> users;
    private final AtomicInteger clients = new AtomicInteger();

    Tenant(TenantConfig config, Map<String, User> users) {
        this.config = config;
        this.users = Map.copyOf(users);
    }

    public String id() {
        return config.id();
    }

    public TenantConfig config() {
        return config;
    }

    /** The user with this name, or null: unknown users still go through a mock SCRAM exchange. */
    public User user(String name) {
        return users.get(name);
    }

    /** Counts a new client unless the tenant is at max_clients. */
    public boolean tryAddClient() {
        for (;;) {
            int current = clients.get();
            if (current >= config.maxClients()) {
                return false;
            }
            if (clients.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    public void removeClient() {
        clients.decrementAndGet();
    }

    public int clients() {
        return clients.get();
    }
}
