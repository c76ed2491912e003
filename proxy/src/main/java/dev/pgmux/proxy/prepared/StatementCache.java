package dev.pgmux.proxy.prepared;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Process-wide interning of statement definitions: the same query text and parameter types always map
 * to one {@link StatementDef} with one server-side name while any client holds it, and for a while after
 * the last one let go. Servers keep statements by definition, so a definition forgotten the moment no
 * client holds it could never be served from a server again: an unnamed statement is let go at the next
 * client's Parse of another text, a named one when the client closes it, and the next Parse of the same
 * text would get a fresh name and be prepared anew on every server. Up to {@link #DEFAULT_IDLE_LIMIT}
 * definitions no client holds are kept, the least recently let go forgotten first, so a stream of distinct
 * SQL cannot grow this map without bound (servers that still hold a forgotten statement keep it until their
 * own LRU bound closes it).
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

    /** Definitions kept after their last client let go: ten times the default per-server statement bound. */
    public static final int DEFAULT_IDLE_LIMIT = 5_000;

    private final ConcurrentHashMap<Key, StatementDef> definitions = new ConcurrentHashMap<>();
    private final AtomicLong counter = new AtomicLong();
    private final Predicate<String> changesSession;
    private final int idleLimit;
    /**
     * Definitions whose references dropped to zero, least recently let go first. Entries may have been taken
     * up again since (this list is not touched on acquire): such an entry is dropped when it comes up for
     * eviction, and added again when its references next drop to zero.
     */
    private final LinkedHashMap<StatementDef, Boolean> idle = new LinkedHashMap<>();

    /** @param changesSession tells whether a query text may change the session (see {@link StatementDef#changesSession}) */
    public StatementCache(Predicate<String> changesSession) {
        this(changesSession, DEFAULT_IDLE_LIMIT);
    }

    StatementCache(Predicate<String> changesSession, int idleLimit) {
        this.changesSession = changesSession;
        this.idleLimit = idleLimit;
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

    /**
     * Drops one reference. A definition none is left on joins the idle ones; beyond {@link #idleLimit} of
     * those, the least recently let go is forgotten.
     */
    public void release(StatementDef def) {
        if (def.references.decrementAndGet() != 0) {
            return;
        }
        synchronized (idle) {
            if (def.references.get() != 0) {
                return; // taken up again (or forgotten) meanwhile
            }
            idle.remove(def);
            idle.put(def, Boolean.TRUE);
            while (idle.size() > idleLimit) {
                StatementDef eldest = idle.keySet().iterator().next();
                idle.remove(eldest);
                // Mark it dead so a concurrent acquire cannot revive it after removal; one taken up again
                // since it went idle stays (it joins again when its last reference goes).
                if (eldest.references.compareAndSet(0, -1)) {
                    definitions.remove(new Key(eldest.query(), eldest.parameterTypes(), eldest.sqlPrepared()), eldest);
                }
            }
        }
    }

    public int size() {
        return definitions.size();
    }

    /**
     * The definitions clients hold now and the idle ones still known (no references), in no particular order
     * (for the admin console).
     */
    public java.util.List<StatementDef> definitions() {
        return java.util.List.copyOf(definitions.values());
    }
}
