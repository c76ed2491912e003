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
    /** Each statement held, with the {@linkplain StatementDef#generation generation} it was prepared at. */
    private final LinkedHashMap<StatementDef, Copy> held = new LinkedHashMap<>(16, 0.75f, true);

    /** The server's copy of a statement: the generation it was prepared at, and how often it was bound since. */
    private static final class Copy {
        final int generation;
        int binds;

        Copy(int generation) {
            this.generation = generation;
        }
    }
    /** Statements the server still holds under their name but whose cached plan went stale (DDL). */
    private final java.util.Set<StatementDef> stale = new java.util.HashSet<>();

    public ServerStatements(int maxStatements) {
        this.maxStatements = maxStatements;
    }

    /**
     * Whether the server holds it with a plan still good; counts as a use for the LRU order. A statement
     * prepared before some server reported that its result shape changed (DDL) is stale here too: it is
     * closed and prepared again at this use, rather than failing once more on this server.
     */
    public boolean holds(StatementDef def) {
        Copy copy = held.get(def);
        if (copy == null) {
            return false;
        }
        if (copy.generation != def.generation()) {
            held.remove(def);
            stale.add(def);
            return false;
        }
        return true;
    }

    /** The generation {@code def} was prepared at on this server, or -1 when it does not hold it. */
    public int preparedGeneration(StatementDef def) {
        Copy copy = held.get(def);
        return copy == null ? -1 : copy.generation;
    }

    /**
     * Counts one Bind (or EXECUTE) of {@code def} here and returns how many there were since it was prepared:
     * Postgres plans the first five for their parameters and may switch to a generic plan after that.
     */
    public int bound(StatementDef def) {
        Copy copy = held.get(def);
        return copy == null ? 0 : ++copy.binds;
    }

    /** How many Binds of {@code def} this server ran since it prepared it (0 when it does not hold it). */
    public int binds(StatementDef def) {
        Copy copy = held.get(def);
        return copy == null ? 0 : copy.binds;
    }

    /** Records that the server holds (or is being sent) {@code def}, as of its current generation. */
    public void add(StatementDef def) {
        held.put(def, new Copy(def.generation()));
    }

    public void remove(StatementDef def) {
        held.remove(def);
    }

    /** The least recently used statement to close so one more fits, or null when there is room. */
    public StatementDef evictionCandidate() {
        if (held.size() < maxStatements) {
            return null;
        }
        Iterator<Map.Entry<StatementDef, Copy>> it = held.entrySet().iterator();
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
