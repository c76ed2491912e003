package dev.pgmux.proxy.console;

import dev.pgmux.proxy.reload.ReloadResult;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.Passwords;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.pool.PoolRegistry;
import io.netty.util.concurrent.EventExecutor;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admin console as a service of the process: who may log in to it (admin_users, stats_users) and what
 * it may ask of the process (RELOAD, SHUTDOWN). Each console connection gets a {@link ConsoleHandler}.
 */
public final class Console implements AutoCloseable {
    /** PgBouncer's default stats_period: SHOW STATS' averages cover one to two of these. */
    public static final Duration STATS_PERIOD = Duration.ofSeconds(60);

    /** Admins run every command; stats users only SHOW. */
    public enum Role { ADMIN, STATS }

    /** A console user; the SCRAM secret authenticates it. */
    public record User(String name, Role role, ScramSecret secret) {
        @Override
        public String toString() {
            return "ConsoleUser[" + name + ", " + role + "]";
        }
    }

    /** Until the server wires RELOAD and SHUTDOWN in, they are refused. */
    private static final ConsoleActions NOT_WIRED = new ConsoleActions() {
        @Override
        public CompletableFuture<ReloadResult> reloadConfiguration() {
            return CompletableFuture.completedFuture(new ReloadResult.Refused("reload not available", List.of()));
        }

        @Override
        public void shutdown(ShutdownMode mode) {
            throw new UnsupportedOperationException("shutdown not available");
        }
    };

    /** Replaced whole on reload; a connected console user keeps its session. */
    private volatile Map<String, User> users;
    private final SecureRandom random;
    /** Console connections now open, for SHOW CLIENTS. */
    private final Map<ClientConnection, User> sessions = new ConcurrentHashMap<>();
    private final StatsSampler sampler;
    private volatile ConsoleActions actions = NOT_WIRED;

    /**
     * @param loop        where the statistics are sampled, every {@code statsPeriod}
     */
    public Console(ConsoleConfig config, SecureRandom random, PoolRegistry pools, EventExecutor loop,
                   Duration statsPeriod) {
        this.random = random;
        this.users = users(config, Map.of());
        this.sampler = new StatsSampler(pools, loop, statsPeriod);
    }

    /** Applies reloaded console users: a user whose password and role are unchanged keeps its SCRAM secret. */
    public void reconfigure(ConsoleConfig config) {
        users = users(config, users);
    }

    private Map<String, User> users(ConsoleConfig config, Map<String, User> previous) {
        Map<String, User> next = new LinkedHashMap<>();
        add(next, config.adminUsers(), Role.ADMIN, previous);
        add(next, config.statsUsers(), Role.STATS, previous);
        return Map.copyOf(next);
    }

    private void add(Map<String, User> into, List<UserConfig> configured, Role role, Map<String, User> previous) {
        for (UserConfig user : configured) {
            User kept = previous.get(user.name());
            if (user.passwordKind() == Passwords.Kind.SCRAM_SHA_256) {
                // A verifier (copied from pg_authid, or made with any Postgres): the password stays out of the file.
                into.put(user.name(), new User(user.name(), role, ScramSecret.parse(user.password())));
            } else if (kept != null && kept.role() == role && kept.secret().equals(ScramSecret.fromPassword(user.password(),
                    kept.secret().salt(), kept.secret().iterations()))) {
                into.put(user.name(), kept);
            } else {
                // A fresh salt per process, as for tenant users: clients never see a stored secret.
                into.put(user.name(), new User(user.name(), role, ScramSecret.generate(user.password(), random)));
            }
        }
    }

    /** The console user with this plain name, or null. */
    public User user(String name) {
        return users.get(name);
    }

    public List<User> users() {
        return List.copyOf(users.values());
    }

    public ConsoleActions actions() {
        return actions;
    }

    /** Wires RELOAD and SHUTDOWN to the process (the server does, once it is up). */
    public void actions(ConsoleActions actions) {
        this.actions = actions;
    }

    StatsSampler sampler() {
        return sampler;
    }

    void opened(ClientConnection client, User user) {
        sessions.put(client, user);
    }

    void closed(ClientConnection client) {
        sessions.remove(client);
    }

    /** SHOW CLIENTS' rows for the console's own clients (database pgbouncer, as PgBouncer lists them). */
    List<List<Object>> clientRows() {
        List<List<Object>> rows = new ArrayList<>();
        sessions.forEach((client, user) -> {
            List<Object> row = new ArrayList<>(Arrays.asList("C", user.name(), "pgbouncer", "none", "active"));
            ShowSockets.addresses(row, client.remoteAddress(), client.channel().localAddress());
            row.addAll(Arrays.asList(ShowSockets.time(client.connectedAtMillis()),
                    ShowSockets.time(client.lastRequestAtMillis()), 0, 0, 0, "client:" + client.id(), "", 0, "",
                    client.sessionParameters().getOrDefault("application_name", ""), 0, (int) client.id(), null,
                    null));
            rows.add(row);
        });
        return rows;
    }

    @Override
    public void close() {
        sampler.close();
    }
}
