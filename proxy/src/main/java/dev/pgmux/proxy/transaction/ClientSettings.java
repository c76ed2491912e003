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
 *
 * <p>An idle client costs little here: its startup and current settings are the interned snapshots it shares
 * with every client of the same startup (see {@link SettingsSnapshot}), copied only when its own SQL changes
 * them, and the sets of noted changes exist only while there are some.
 */
final class ClientSettings {
    /** The startup parameters as sent: the key of the pool's login templates. */
    private final Map<String, String> startupKey;
    /** The startup settings once welcomed (the login template's); the parameters as sent before. */
    private Map<String, String> startup;
    /** An immutable snapshot of the settings now, renewed when they change: servers compare it cheaply. */
    private Map<String, String> current;
    /** Settings noted as changed in the current unit, or null when none are. */
    private Set<String> changed;
    /** Of the changed ones, those last RESET, or null when none are. */
    private Set<String> reset;
    private boolean resetAll;

    /** What one read-back asks the server for: these names, of which {@code resets} (case-insensitive) were last RESET. */
    record ReadBack(List<String> names, Set<String> resets) {}

    ClientSettings(Map<String, String> startupParameters) {
        this.startupKey = SettingsSnapshot.of(startupParameters);
        this.startup = startupKey;
        this.current = startupKey;
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
        return current;
    }

    /**
     * The first server accepted the startup settings: keep them in the form it reports them, so that the next
     * server that already has them is not sent them again. Returns the new snapshot.
     */
    Map<String, String> normalisedBy(Map<String, String> reported) {
        Map<String, String> next = editable();
        for (Map.Entry<String, String> entry : reported.entrySet()) {
            if (next.containsKey(entry.getKey())) {
                next.put(entry.getKey(), entry.getValue());
            }
        }
        current = SettingsSnapshot.of(next);
        return current;
    }

    /** The client is welcomed as an earlier login with the same startup was: these are its settings now. */
    void welcomedWith(Map<String, String> templateSettings) {
        startup = templateSettings;
        current = templateSettings; // already a snapshot, made by normalisedBy() for the first login
    }

    /** SQL about to run may change these settings. */
    void note(SessionChanges changes) {
        for (String name : changes.names()) {
            if (changed == null) {
                changed = caseInsensitiveSet();
            }
            changed.add(name);
            if (changes.resets().contains(name)) {
                if (reset == null) {
                    reset = caseInsensitiveSet();
                }
                reset.add(name);
            } else if (reset != null) {
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
        changed = null;
        reset = null;
        current = SettingsSnapshot.of(startup);
        return true;
    }

    /** Whether settings of the current unit must be read back from the server before it is released. */
    boolean readBackNeeded() {
        return changed != null && !changed.isEmpty();
    }

    /** What to read back, and the noted changes cleared. */
    ReadBack takeReadBack() {
        ReadBack readBack = new ReadBack(changed == null ? List.of() : new ArrayList<>(changed),
                reset == null ? Set.of() : reset);
        changed = null;
        reset = null;
        return readBack;
    }

    /** The server answered a read-back with {@code values} (null for a setting it does not know). */
    void readBack(ReadBack readBack, List<String> values, ServerSession server) {
        Map<String, String> next = editable();
        for (int i = 0; i < readBack.names().size(); i++) {
            String name = readBack.names().get(i);
            String value = values.get(i);
            server.changedByClient(name, value);
            if (readBack.resets().contains(name)) {
                Map.Entry<String, String> atStartup = startupEntry(name);
                if (atStartup != null) {
                    value = atStartup.getValue(); // applied again at the next checkout, as on a direct connection
                }
            }
            if (value == null) {
                next.remove(name);
            } else {
                next.put(name, value);
            }
        }
        current = SettingsSnapshot.of(next);
    }

    /** A case-insensitive copy of the settings now, to change. */
    private Map<String, String> editable() {
        Map<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(current);
        return copy;
    }

    /** The startup setting of this name, in any case, or null. */
    private Map.Entry<String, String> startupEntry(String name) {
        for (Map.Entry<String, String> entry : startup.entrySet()) {
            if (entry.getKey().equalsIgnoreCase(name)) {
                return entry;
            }
        }
        return null;
    }

    private static Set<String> caseInsensitiveSet() {
        return new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    }
}
