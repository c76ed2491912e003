package dev.pgmux.proxy.tenant;

import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.Passwords;
import dev.pgmux.proxy.auth.AuthQuery;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The users a tenant found with its {@code auth_query}, cached: a user found is used for
 * {@code auth_cache_ttl}, a user not found is remembered as such for {@code auth_failure_ttl}, a lookup that
 * failed is not remembered at all. Logins of the same user while its lookup runs share that lookup.
 *
 * <p>A user found again with the same password keeps its {@link Tenant.User} object, and with it the
 * ClientKey of SCRAM passthrough and its pool's servers; a new password makes a new one. After its TTL a
 * found user stays known (its pool keeps its target) until a lookup says otherwise or {@link #clear} runs.
 */
final class LookedUpUsers {
    /** A found user (or null: not found) and until when (System.nanoTime) the answer holds. */
    private record Entry(Tenant.User user, long expiresAt) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Tenant.User>> inFlight = new ConcurrentHashMap<>();
    /** Bumped by {@link #clear}: a lookup started before does not store its answer. */
    private volatile long generation;
    private volatile long lastSweep = System.nanoTime();

    /**
     * The user {@code name} as the query finds it (null: no such user), from the cache while its answer holds,
     * else from {@code lookup} (the stored password, empty for none), shared with concurrent callers.
     */
    CompletableFuture<Tenant.User> lookUp(String name, AuthQueryConfig auth,
                                          Function<String, CompletableFuture<Optional<String>>> lookup) {
        long now = System.nanoTime();
        Entry cached = entries.get(name);
        if (cached != null && now - cached.expiresAt() < 0) {
            return CompletableFuture.completedFuture(cached.user());
        }
        CompletableFuture<Tenant.User> mine = new CompletableFuture<>();
        CompletableFuture<Tenant.User> running = inFlight.putIfAbsent(name, mine);
        if (running != null) {
            return running;
        }
        long started = generation;
        CompletableFuture<Optional<String>> answer;
        try {
            answer = lookup.apply(name);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((password, failure) -> {
            Tenant.User user = null;
            Throwable error = failure;
            if (error == null && password.isPresent()) {
                try {
                    user = user(name, password.get());
                } catch (IllegalArgumentException e) {
                    error = new AuthQuery.Failed(e.getMessage());
                }
            }
            if (error == null && started == generation) {
                store(name, user, user != null ? auth.cacheTtl() : auth.failureTtl());
            }
            inFlight.remove(name, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(user);
            }
        });
        return mine;
    }

    /** The user as last found, whether or not its answer still holds; null when not found or never looked up. */
    Tenant.User known(String name) {
        Entry entry = entries.get(name);
        return entry == null ? null : entry.user();
    }

    /** Forgets every answer (the auth settings changed). */
    void clear() {
        generation++;
        entries.clear();
    }

    private Tenant.User user(String name, String password) {
        Passwords.Kind kind = Passwords.kind(password);
        if (kind == Passwords.Kind.PLAINTEXT) {
            throw new IllegalArgumentException("auth_query returned a password for \"" + name + "\" that is neither a "
                    + "SCRAM-SHA-256 verifier nor an MD5 hash");
        }
        if (kind == Passwords.Kind.SCRAM_SHA_256) {
            Optional<String> problem = Passwords.verifierProblem(password);
            if (problem.isPresent()) {
                throw new IllegalArgumentException("auth_query returned for \"" + name + "\" a " + problem.get());
            }
        }
        Tenant.User before = known(name);
        return before != null && before.password().equals(password) ? before : Tenant.User.stored(name, password);
    }

    private void store(String name, Tenant.User user, Duration ttl) {
        long now = System.nanoTime();
        if (user == null && ttl.isZero()) {
            entries.remove(name);
        } else {
            entries.put(name, new Entry(user, now + ttl.toNanos()));
        }
        if (now - lastSweep > 1_000_000_000L) { // "not found" answers of every name ever tried would pile up
            lastSweep = now;
            entries.values().removeIf(e -> e.user() == null && now - e.expiresAt() >= 0);
        }
    }
}
