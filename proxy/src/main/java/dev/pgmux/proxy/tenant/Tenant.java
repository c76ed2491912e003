package dev.pgmux.proxy.tenant;

import dev.pgmux.config.Cidr;
import dev.pgmux.config.PoolMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A configured tenant at run time: its users' SCRAM secrets and its count of connected clients. A reload
 * updates it in place ({@link TenantRegistry#update}), so connected clients keep this object and the count
 * stays right; every read of its settings sees the configuration in effect.
 */
public final class Tenant {
    /** A user of the tenant; the secret authenticates clients, the password logs in upstream. */
    public record User(String name, String password, ScramSecret secret) {
        @Override
        public String toString() {
            return "User[" + name + "]";
        }
    }

    /** Its settings and users, replaced together, with what is derived from them once per reload. */
    private record State(TenantConfig config, Map<String, User> users, List<Cidr> allowList,
                         Map<String, PoolMode> poolModes) {
        State(TenantConfig config, Map<String, User> users) {
            this(config, Map.copyOf(users), config.access().allowList().stream().map(Cidr::parse).toList(),
                    poolModes(config));
        }

        private static Map<String, PoolMode> poolModes(TenantConfig config) {
            Map<String, PoolMode> modes = new HashMap<>();
            for (UserConfig user : config.users()) {
                user.poolMode().ifPresent(mode -> modes.put(user.name(), mode));
            }
            return Map.copyOf(modes);
        }
    }

    private volatile State state;
    private final AtomicInteger clients = new AtomicInteger();

    Tenant(TenantConfig config, Map<String, User> users) {
        this.state = new State(config, users);
    }

    /** On reload: the new settings and users (a user whose password is unchanged is the same object). */
    void update(TenantConfig config, Map<String, User> users) {
        this.state = new State(config, users);
    }

    public String id() {
        return state.config().id();
    }

    /** The tenant's settings in effect now. */
    public TenantConfig config() {
        return state.config();
    }

    /** The user with this name, or null: unknown users still go through a mock SCRAM exchange. */
    public User user(String name) {
        return state.users().get(name);
    }

    /** Whether a client from this address may connect: its allow_list holds it, or it has none. */
    public boolean allows(InetAddress address) {
        List<Cidr> allowList = state.allowList();
        if (allowList.isEmpty()) {
            return true;
        }
        for (Cidr network : allowList) {
            if (network.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The pooling the user's clients get whatever port they use, or null: the port's. */
    public PoolMode poolMode(String userName) {
        return state.poolModes().get(userName);
    }

    Map<String, User> users() {
        return state.users();
    }

    /** Counts a new client unless the tenant is at max_clients. */
    public boolean tryAddClient() {
        for (;;) {
            int current = clients.get();
            if (current >= state.config().maxClients()) {
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
