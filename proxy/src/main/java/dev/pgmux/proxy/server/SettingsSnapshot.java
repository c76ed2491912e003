package dev.pgmux.proxy.server;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Immutable, interned maps of session settings. Clients with the same settings (every client of one
 * application, usually) share one instance, so a server can tell in one comparison of references whether
 * the client it is handed to needs anything applied. The intern table is bounded: past its size, maps are
 * simply not shared and are compared by content.
 */
public final class SettingsSnapshot {
    private static final int MAX_INTERNED = 10_000;
    private static final ConcurrentHashMap<Map<String, String>, Map<String, String>> INTERNED = new ConcurrentHashMap<>();

    private SettingsSnapshot() {}

    /** An immutable, case-insensitive copy of {@code settings}, shared with equal ones where possible. */
    public static Map<String, String> of(Map<String, String> settings) {
        TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(settings);
        Map<String, String> snapshot = Collections.unmodifiableMap(copy);
        Map<String, String> shared = INTERNED.get(snapshot);
        if (shared != null) {
            return shared;
        }
        if (INTERNED.size() >= MAX_INTERNED) {
            return snapshot;
        }
        shared = INTERNED.putIfAbsent(snapshot, snapshot);
        return shared == null ? snapshot : shared;
    }
}
