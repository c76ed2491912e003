package dev.pgmux.proxy.transaction;

import dev.pgmux.proxy.server.ServerSession;
import dev.pgmux.proxy.server.SettingsSnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The session settings of one transaction-mode client, which follow it from server to server: those of its
 * startup packet, and what its SET and RESET left. Names are case-insensitive, as in Postgres.
 *
 * <pre>
 *   startup        the startup parameters, then as the first server normalised them ("ISO" -> "ISO, MDY")
 *   current        what any server this client lands on must have (a snapshot is compared by reference)
 *   noted changes  settings SQL of the current unit may have changed: read back from the server before it
 *                  is released; a RESET one returns to its startup value; DISCARD ALL resets them all
 * </pre>
 */
final class ClientSettings {
    private final Map<String, String> current = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, String> startup = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    /** The startup parameters as sent: the key of the pool's login templates. */
    private final Map<String, String> startupKey;
    /** An immutable copy of {@link #current}, renewed when it changes: servers compare it cheaply. */
    private Map<String, String> snapshot = Map.of();
    private final Set<String> changed = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    /** Of the changed ones, those last RESET. */
    private final Set<String> reset = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    private boolean resetAll;

    /** What one read-back asks the server for: these names, of which {@code resets} (case-insensitive) were last RESET. */
    record ReadBack(List<String> names, Set<String> resets) {}

    ClientSettings(Map<String, String> startupParameters) {
        this.startupKey = SettingsSnapshot.of(startupParameters);
        current.putAll(startupParameters);
    }

    Map<String, String> startupKey() {
        return startupKey;
    }

    /** The settings as they stand, for the first server of a login (before the welcome). */
    Map<String, String> current() {
        return current;
    }

    /** The settings every server this client uses must have; the same object until they change. */
    Map<String, String> snapshot() {
        return snapshot;
    }

    /**
     * The first server accepted the startup settings: keep them in the form it reports them, so that the next
     * server that already has them is not sent them again. Returns the new snapshot.
     */
    Map<String, String> normalisedBy(Map<String, String> reported) {
        for (Map.Entry<String, String> entry : reported.entrySet()) {
            if (current.containsKey(entry.getKey())) {
                current.put(entry.getKey(), entry.getValue());
            }
        }
        changed();
        return snapshot;
    }

    /** The client is welcomed as an earlier login with the same startup was: these are its settings now. */
    void welcomedWith(Map<String, String> templateSettings) {
        current.clear();
        current.putAll(templateSettings);
        startup.putAll(templateSettings);
        snapshot = templateSettings; // already a snapshot, made by changed() for the first login
    }

    /** SQL about to run may change these settings. */
    void note(SessionChanges changes) {
        changed.addAll(changes.names());
        for (String name : changes.names()) {
            if (changes.resets().contains(name)) {
                reset.add(name);
            } else {
                reset.remove(name);
            }
        }
        resetAll |= changes.resetAll();
    }

    /** DISCARD ALL ran: at the end of the unit every setting returns to its startup value. */
    void discardAll() {
        resetAll = true;
    }

    /**
     * At the end of a unit: applies a pending DISCARD ALL (then the server's own record of its settings must be
     * reset too: returns true).
     */
    boolean takeResetAll() {
        if (!resetAll) {
            return false;
        }
        resetAll = false;
        changed.clear();
        reset.clear();
        current.clear();
        current.putAll(startup);
        changed();
        return true;
    }

    /** Whether settings of the current unit must be read back from the server before it is released. */
    boolean readBackNeeded() {
        return !changed.isEmpty();
    }

    /** What to read back, and the noted changes cleared. */
    ReadBack takeReadBack() {
        Set<String> resets = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        resets.addAll(reset);
        ReadBack readBack = new ReadBack(new ArrayList<>(changed), resets);
        changed.clear();
        reset.clear();
        return readBack;
    }

    /** The server answered a read-back with {@code values} (null for a setting it does not know). */
    void readBack(ReadBack readBack, List<String> values, ServerSession server) {
        for (int i = 0; i < readBack.names().size(); i++) {
            String name = readBack.names().get(i);
            String value = values.get(i);
            server.changedByClient(name, value);
            if (readBack.resets().contains(name) && startup.containsKey(name)) {
                value = startup.get(name); // applied again at the next checkout, as on a direct connection
            }
            if (value == null) {
                current.remove(name);
            } else {
                current.put(name, value);
            }
        }
        changed();
    }

    private void changed() {
        snapshot = SettingsSnapshot.of(current);
    }
}
