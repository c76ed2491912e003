package dev.pgmux.proxy.prepared;

import java.util.HashMap;
import java.util.Map;

/** One client's named prepared statements: its own names mapped to the shared definitions. */
public final class ClientStatements {
    private final StatementCache cache;
    private final int maxStatements;
    /** The client's names; empty (made at the first name) for the many clients that never name a statement. */
    private Map<String, StatementDef> byName = java.util.Collections.emptyMap();
    /** Per name, the plan generation of its definition this client has seen (see StatementDef#generation). */
    private Map<String, Integer> seenGeneration = java.util.Collections.emptyMap();
    /**
     * The client's unnamed statement where pgmux follows it (cache_unnamed_statements), null when it has none;
     * {@link #unnamedOnServer} when the attached server holds it as its own unnamed statement, otherwise it is
     * served from the shared statement of its definition.
     */
    private StatementDef unnamed;
    private boolean unnamedOnServer;
    /** The plan generation of the unnamed statement's definition this client has seen. */
    private int unnamedGeneration;

    public ClientStatements(StatementCache cache, int maxStatements) {
        this.cache = cache;
        this.maxStatements = maxStatements;
    }

    public StatementDef get(String name) {
        return byName.get(name);
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public boolean isFull() {
        return byName.size() >= maxStatements;
    }

    public int maxStatements() {
        return maxStatements;
    }

    /** Registers {@code name}; the caller checked it is free and there is room. */
    public StatementDef register(String name, String query, int[] parameterTypes, boolean sqlPrepared) {
        StatementDef def = cache.acquire(query, parameterTypes, sqlPrepared);
        named().put(name, def);
        seenGeneration.put(name, def.generation());
        return def;
    }

    /** The maps of names, made now if this is the client's first. */
    private Map<String, StatementDef> named() {
        if (!(byName instanceof HashMap)) { // the shared empty map: lookups and removals work on it, puts do not
            byName = new HashMap<>();
            seenGeneration = new HashMap<>();
        }
        return byName;
    }

    /**
     * Whether this client's view of {@code name} predates a result-shape change another client ran into:
     * on a direct connection it would get "cached plan must not change result type" once, too.
     */
    public boolean planOutdated(String name, StatementDef def) {
        return seenGeneration.getOrDefault(name, def.generation()) < def.generation();
    }

    /** The client now knows of the latest plan change of {@code name}'s definition. */
    public void planSeen(String name, StatementDef def) {
        named();
        seenGeneration.put(name, def.generation());
    }

    /** Forgets {@code name} if it still means {@code def} (a failed Parse undoes its registration this way). */
    public void unregister(String name, StatementDef def) {
        if (byName.remove(name, def)) {
            cache.release(def);
        }
    }

    /** Forgets {@code name}, as Close or DEALLOCATE do; returns whether it existed. */
    public boolean remove(String name) {
        seenGeneration.remove(name);
        StatementDef def = byName.remove(name);
        if (def != null) {
            cache.release(def);
        }
        return def != null;
    }

    /** Takes {@code name} out but keeps its reference: {@link #reattach} or {@link #release} follows. */
    public StatementDef detach(String name) {
        return byName.remove(name);
    }

    /** Puts a detached name back, unless it was registered again meanwhile. */
    public void reattach(String name, StatementDef def) {
        if (def != null && named().putIfAbsent(name, def) != null) {
            cache.release(def);
        }
    }

    /** Drops the reference of a detached definition. */
    public void release(StatementDef def) {
        if (def != null) {
            cache.release(def);
        }
    }

    /** Forgets everything, as DEALLOCATE ALL, DISCARD ALL or the end of the client do. */
    public void clear() {
        byName.values().forEach(cache::release);
        byName.clear();
        seenGeneration.clear();
    }

    public int size() {
        return byName.size();
    }

    // --- the unnamed statement (followed only where cache_unnamed_statements is on) ---

    /** A definition for an unnamed Parse, with a reference the caller hands to {@link #unnamed(StatementDef, boolean)}. */
    public StatementDef acquireUnnamed(String query, int[] parameterTypes) {
        return cache.acquire(query, parameterTypes, false);
    }

    public StatementDef unnamed() {
        return unnamed;
    }

    public boolean unnamedOnServer() {
        return unnamedOnServer;
    }

    /**
     * Makes {@code def} (with the reference it carries, or null) the unnamed statement and returns the one it
     * replaces, whose reference passes to the caller (see {@link #release}).
     */
    public StatementDef unnamed(StatementDef def, boolean onServer) {
        StatementDef before = unnamed;
        unnamed = def;
        unnamedOnServer = def != null && onServer;
        if (def != null) {
            unnamedGeneration = def.generation();
        }
        return before;
    }

    /** The attached server now holds the unnamed statement as its own unnamed statement. */
    public void unnamedOnServer(boolean onServer) {
        unnamedOnServer = unnamed != null && onServer;
    }

    /** Like {@link #planOutdated(String, StatementDef)}, for the unnamed statement. */
    public boolean unnamedPlanOutdated() {
        return unnamed != null && unnamedGeneration < unnamed.generation();
    }

    public void unnamedPlanSeen() {
        if (unnamed != null) {
            unnamedGeneration = unnamed.generation();
        }
    }

    /** The client's server went back to the pool: its unnamed statement is served from the shared one from now. */
    public void serverReleased() {
        unnamedOnServer = false;
    }

    /** The client is gone: drops the unnamed statement's reference. */
    public void forgetUnnamed() {
        release(unnamed(null, false));
    }
}
