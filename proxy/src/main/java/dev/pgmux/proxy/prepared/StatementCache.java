package dev.pgmux.proxy.prepared;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Process-wide interning of statement definitions: the same query text and parameter types always map
 * to one {@link StatementDef} with one server-side name while any client holds it. A definition no client
 * holds is forgotten, so a stream of distinct SQL cannot grow this map without bound (servers that still
 * hold such a statement keep it until their own LRU bound closes it).
 *
 * <p>Server names come from a counter, never from a hash, so two definitions can never collide.
 */
public final class StatementCache {
    private record Key(String query, int[] parameterTypes, boolean sqlPrepared) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && query.equals(k.query) && Arrays.equals(parameterTypes, k.parameterTypes)
                    && sqlPrepared == k.sqlPrepared;
        }

        @Override
        public int hashCode() {
            return (query.hashCode() * 31 + Arrays.hashCode(parameterTypes)) * 2 + (sqlPrepared ? 1 : 0);
        }
    }

    /** pgmux's names for statements on servers: this prefix and a process-wide counter. */
    private static final String SERVER_NAME_PREFIX = "pgmux_";

    private final ConcurrentHashMap<Key, StatementDef> definitions = new ConcurrentHashMap<>();
    private final AtomicLong counter = new AtomicLong();
    private final Predicate<String> changesSession;

    /** @param changesSession tells whether a query text may change the session (see {@link StatementDef#changesSession}) */
    public StatementCache(Predicate<String> changesSession) {
        this.changesSession = changesSession;
    }

    /** Whether a server-side statement name is one pgmux gives (and only pgmux should use). */
    public static boolean isServerName(String name) {
        return name.startsWith(SERVER_NAME_PREFIX);
    }

    /** The shared definition, with one more reference held by the caller. */
    public StatementDef acquire(String query, int[] parameterTypes, boolean sqlPrepared) {
        Key key = new Key(query, parameterTypes.clone(), sqlPrepared);
        for (;;) {
            StatementDef def = definitions.computeIfAbsent(key, k -> new StatementDef(k.query(), k.parameterTypes(),
                    k.sqlPrepared(), SERVER_NAME_PREFIX + Long.toString(counter.incrementAndGet(), 36),
                    changesSession.test(k.query())));
            int refs = def.references.get();
            // -1 marks a definition being removed by release(): spin until it is gone, then make a fresh one.
            if (refs >= 0 && def.references.compareAndSet(refs, refs + 1)) {
                return def;
            }
        }
    }

    /** Drops one reference; the definition is forgotten when none is left. */
    public void release(StatementDef def) {
        if (def.references.decrementAndGet() == 0) {
            // Mark it dead so a concurrent acquire cannot revive it after removal.
            if (def.references.compareAndSet(0, -1)) {
                definitions.remove(new Key(def.query(), def.parameterTypes(), def.sqlPrepared()), def);
            }
        }
    }

    public int size() {
        return definitions.size();
    }

    /** The definitions clients hold now, in no particular order (for the admin console). */
    public java.util.List<StatementDef> definitions() {
        return java.util.List.copyOf(definitions.values());
    }
}
