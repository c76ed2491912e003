package dev.pgmux.proxy.tenant;

import dev.pgmux.config.Cidr;
import dev.pgmux.config.PoolMode;
import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.Passwords;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.server.Credentials;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A configured tenant at run time: its users' secrets, the users its {@code auth_query} found, and its count
 * of connected clients. A reload updates it in place ({@link TenantRegistry#update}), so connected clients keep
 * this object and the count stays right; every read of its settings sees the configuration in effect.
 */
public final class Tenant {
    /**
     * A user of the tenant. Clients authenticate with SCRAM against {@code secret} (generated from a password,
     * or the verifier given), or, when only an MD5 hash is known ({@code secret} null), with MD5 against it;
     * pgmux logs in upstream with {@code credentials}.
     */
    public record User(String name, String password, ScramSecret secret, Credentials credentials) {
        /** A configured user: a plaintext password gets a SCRAM secret of its own (CPU-heavy: not on an event loop). */
        static User configured(String name, String password, SecureRandom random) {
            if (Passwords.kind(password) == Passwords.Kind.PLAINTEXT) {
                // A fresh salt per process: clients never see a stored secret, only this exchange's.
                return new User(name, password, ScramSecret.generate(password, random), new Credentials.Password(password));
            }
            return stored(name, password);
        }

        /** A user known by a stored form of its password (a SCRAM-SHA-256 verifier or an MD5 hash); cheap. */
        static User stored(String name, String password) {
            Credentials credentials = Credentials.of(password);
            return new User(name, password,
                    credentials instanceof Credentials.ScramVerifier v ? v.verifier() : null, credentials);
        }

        /** The MD5 hash clients are checked against when that is all pgmux knows; else null. */
        public String md5Hash() {
            return credentials instanceof Credentials.Md5Hash h ? h.hash() : null;
        }

        @Override
        public String toString() {
            return "User[" + name + "]";
        }
    }

    /**
     * Its settings and users, replaced together, with what is derived from them once per reload.
     *
     * @param authUser who runs the auth_query, or null without one
     */
    private record State(TenantConfig config, Map<String, User> users, User authUser, List<Cidr> allowList,
                         Map<String, PoolMode> poolModes) {
        State(TenantConfig config, Map<String, User> users, User authUser) {
            this(config, Map.copyOf(users), authUser,
                    config.access().allowList().stream().map(Cidr::parse).toList(), poolModes(config));
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
    private final LookedUpUsers lookedUp = new LookedUpUsers();

    Tenant(TenantConfig config, Map<String, User> users, User authUser) {
        this.state = new State(config, users, authUser);
    }

    /**
     * On reload: the new settings and users (a user whose password is unchanged is the same object). New auth
     * settings (auth_user, auth_query, its TTLs, the upstream it runs on) forget what the query found.
     */
    void update(TenantConfig config, Map<String, User> users, User authUser) {
        TenantConfig before = state.config();
        this.state = new State(config, users, authUser);
        if (!before.authQuery().equals(config.authQuery()) || !sameUpstream(before, config)) {
            lookedUp.clear();
        }
    }

    private static boolean sameUpstream(TenantConfig a, TenantConfig b) {
        return a.upstream().host().equals(b.upstream().host()) && a.upstream().port() == b.upstream().port()
                && a.upstream().database().equals(b.upstream().database());
    }

    public String id() {
        return state.config().id();
    }

    /** The tenant's settings in effect now. */
    public TenantConfig config() {
        return state.config();
    }

    /**
     * The user with this name: configured (or the auth_user), else as the auth_query last found it; null when
     * neither (unknown users still go through a mock SCRAM exchange).
     */
    public User user(String name) {
        User user = state.users().get(name);
        return user != null ? user : lookedUp.known(name);
    }

    /** A configured user (the auth_user counts as one), or null: such a name may be looked up upstream. */
    public User configuredUser(String name) {
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

    /** Whether users it does not list are looked up with an auth_query. */
    public boolean looksUpUsers() {
        return state.config().authQuery().isPresent();
    }

    /** The auth_user as a user (its credentials log the lookups in), or null without an auth_query. */
    public User authUser() {
        return state.authUser();
    }

    /**
     * Looks {@code name} up with the auth_query, or answers from the cache: the user found, or null when there
     * is no such user; fails when the lookup could not tell. {@code lookup} runs the query (the stored password,
     * empty for none).
     */
    public CompletableFuture<User> lookUp(String name, Function<String, CompletableFuture<Optional<String>>> lookup) {
        Optional<AuthQueryConfig> auth = state.config().authQuery();
        if (auth.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return lookedUp.lookUp(name, auth.get(), lookup);
    }

    Map<String, User> users() {
        return state.users();
    }

    /** Counts a new client unless the tenant is at max_clients, or at its share of it in a cluster. */
    public boolean tryAddClient() {
        synchronized (clients) { // against a lease lowering the limit while the count is read
            int current = clients.get();
            if (current >= Math.min(state.config().maxClients(), clusterClientLimit)) {
                return false;
            }
            clients.incrementAndGet();
            return true;
        }
    }

    public void removeClient() {
        clients.decrementAndGet();
    }

    /**
     * Clients this instance may admit by its lease in the metadata database (SlotLeases): with several
     * instances, max_clients is the whole cluster's. Unlimited (by this) without one.
     */
    private volatile int clusterClientLimit = Integer.MAX_VALUE;

    /** Logins waiting for the lease to grow: each wants a slot more than the clients connected. */
    private final AtomicInteger loginsWaiting = new AtomicInteger();

    public void loginWaiting(boolean waiting) {
        if (waiting) {
            loginsWaiting.incrementAndGet();
        } else {
            loginsWaiting.decrementAndGet();
        }
    }

    /** The client slots this instance would use now: one per client, and one per login waiting for a slot. */
    public int clientSlotsWanted() {
        return clients.get() + loginsWaiting.get();
    }

    /** Whether a lease could admit more clients than it does now (a login may wait for it to grow). */
    public boolean clientLimitByLease() {
        return clusterClientLimit < state.config().maxClients();
    }

    /**
     * Sets the lease's client limit; a lower one is set before the metadata database records it, a higher one
     * after. Returns the clients counted now: a lower limit takes no client away, and the lease counts those it
     * has until they leave.
     */
    public int clusterClientLimit(int limit) {
        synchronized (clients) {
            clusterClientLimit = limit;
            return clients.get();
        }
    }

    public int clusterClientLimit() {
        return clusterClientLimit;
    }

    public int clients() {
        return clients.get();
    }
}
