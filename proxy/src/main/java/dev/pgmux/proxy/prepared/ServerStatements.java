package dev.pgmux.proxy.prepared;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The statements one server connection holds, least recently used first. Bounded: making room evicts
 * the least recently used, which the caller closes on the server. Only the client attached to the
 * server touches this, so it needs no lock.
 */
public final class ServerStatements {
    private final int maxStatements;
    private final LinkedHashMap<StatementDef, Boolean> held = new LinkedHashMap<>(16, 0.75f, true);
    /** Statements the server still holds under their name but whose cached plan went stale (DDL). */
    private final java.util.Set<StatementDef> stale = new java.util.HashSet<>();

    public ServerStatements(int maxStatements) {
        this.maxStatements = maxStatements;
    }

    /** Whether the server holds it; counts as a use for the LRU order. */
    public boolean holds(StatementDef def) {
        return held.get(def) != null;
    }

    /** Records that the server holds (or is being sent) {@code def}. */
    public void add(StatementDef def) {
        held.put(def, Boolean.TRUE);
    }

    public void remove(StatementDef def) {
        held.remove(def);
    }

    /** The least recently used statement to close so one more fits, or null when there is room. */
    public StatementDef evictionCandidate() {
        if (held.size() < maxStatements) {
            return null;
        }
        Iterator<Map.Entry<StatementDef, Boolean>> it = held.entrySet().iterator();
        StatementDef eldest = it.next().getKey();
        it.remove();
        return eldest;
    }

    /**
     * The server failed {@code def} with "cached plan must not change result type": forget it here, and
     * remember to close it on the server before preparing it again.
     */
    public void markStale(StatementDef def) {
        if (held.remove(def) != null) {
            stale.add(def);
        }
    }

    /** Whether {@code def} must be closed before it is prepared again; clears the mark. */
    public boolean takeStale(StatementDef def) {
        return stale.remove(def);
    }

    /** The server dropped every statement (DISCARD ALL, DEALLOCATE ALL). */
    public void clear() {
        held.clear();
        stale.clear();
    }

    public int size() {
        return held.size();
    }
}
