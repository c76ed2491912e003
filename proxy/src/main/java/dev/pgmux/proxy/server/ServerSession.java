package dev.pgmux.proxy.server;

import dev.pgmux.proxy.prepared.ServerStatements;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What pgmux knows of a server's session state: the parameters it reported (ParameterStatus), the
 * settings pgmux changed on it away from its defaults, and the prepared statements it holds.
 * Reported values are written by the server's event loop; everything else only by the attached client.
 */
public final class ServerSession {
    private final Map<String, String> reported = new LinkedHashMap<>();
    private final Map<String, String> changed = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private ServerStatements statements;
    /** The last settings map {@link #applied} took, while nothing changed since: the common case is a match. */
    private Map<String, String> lastApplied;
    /** A client prepared or deallocated a statement under one of pgmux's names here (see {@link #statementsAlteredByClient}). */
    private volatile boolean statementsAlteredByClient;

    synchronized void reported(String name, String value) {
        if (!value.equals(reported.put(name, value))) {
            lastApplied = null; // the server changed something itself (a client's SET, a reset)
        }
    }

    /** The reported parameters, as a client expects them in its ParameterStatus messages at login. */
    public synchronized Map<String, String> reportedParameters() {
        return Map.copyOf(reported);
    }

    /** The current value as far as pgmux knows, or null (a setting left at a default nobody reported). */
    public synchronized String value(String name) {
        String value = changed.get(name);
        if (value != null) {
            return value;
        }
        value = reported.get(name);
        if (value != null) {
            return value;
        }
        for (Map.Entry<String, String> entry : reported.entrySet()) {
            if (entry.getKey().equalsIgnoreCase(name)) {
                return entry.getValue();
            }
        }
        return null;
    }

    /**
     * One statement that makes this server's settings those {@code desired} lists (names pgmux changed for
     * someone else and that {@code desired} lacks go back to their defaults), or null when nothing differs.
     * {@link #applied} records the result once the server confirmed it.
     */
    public String differences(Map<String, String> desired) {
        StringBuilder sql;
        synchronized (this) {
            if (desired == lastApplied) {
                return null; // the common case, checked at every checkout: nothing to build
            }
            sql = new StringBuilder();
            for (String name : changed.keySet()) {
                if (!desired.containsKey(name)) {
                    sql.append("RESET ").append(identifier(name)).append("; ");
                }
            }
            String separator = "SELECT ";
            for (Map.Entry<String, String> setting : desired.entrySet()) {
                if (!setting.getValue().equals(value(setting.getKey()))) {
                    sql.append(separator).append("pg_catalog.set_config(").append(literal(setting.getKey())).append(", ")
                            .append(literal(setting.getValue())).append(", false)");
                    separator = ", ";
                }
            }
        }
        return sql.isEmpty() ? null : sql.toString();
    }

    /** The server now has exactly {@code desired} beyond its defaults. */
    public synchronized void applied(Map<String, String> desired) {
        changed.keySet().removeIf(name -> !desired.containsKey(name));
        changed.putAll(desired);
        lastApplied = desired;
    }

    /** A client changed this setting on the server (seen by reading it back); null means back to default. */
    public synchronized void changedByClient(String name, String value) {
        lastApplied = null;
        if (value == null) {
            changed.remove(name);
        } else {
            changed.put(name, value);
        }
    }

    /** RESET ALL or DISCARD ALL ran: every setting is back to its default. */
    public synchronized void settingsReset() {
        lastApplied = null;
        changed.clear();
    }

    /**
     * How many prepared statements this server holds, for the admin console: read from another thread, so
     * a figure of a moment ago, not a lock-step one.
     */
    public int statementCount() {
        ServerStatements held = statements;
        return held == null ? 0 : held.size();
    }

    /** The prepared statements this server holds, created with the given bound on first use. */
    public ServerStatements statements(int maxStatements) {
        if (statements == null) {
            statements = new ServerStatements(maxStatements);
        }
        return statements;
    }

    /**
     * A client ran a SQL-level PREPARE or DEALLOCATE of a name in pgmux's namespace on this server as
     * written: the server may now lack a statement pgmux made for every client, or hold one under a name
     * pgmux will give another statement. It must not serve another client; the pool closes it when it
     * comes back.
     */
    public void statementsAlteredByClient() {
        statementsAlteredByClient = true;
    }

    public boolean isStatementsAlteredByClient() {
        return statementsAlteredByClient;
    }

    /** The statements this server holds, or null if it never held any. */
    public ServerStatements existingStatements() {
        return statements;
    }

    /** An escape-string literal, safe whatever standard_conforming_strings says. */
    public static String literal(String value) {
        StringBuilder out = new StringBuilder(value.length() + 3).append("E'");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\'' || c == '\\') {
                out.append(c);
            }
            out.append(c);
        }
        return out.append('\'').toString();
    }

    /** A quoted identifier; dotted custom names (myapp.user_id) are quoted part by part. */
    static String identifier(String name) {
        StringBuilder out = new StringBuilder();
        for (String part : name.split("\\.", -1)) {
            if (!out.isEmpty()) {
                out.append('.');
            }
            out.append('"').append(part.replace("\"", "\"\"")).append('"');
        }
        return out.toString();
    }
}
