package dev.pgmux.proxy.client;

import dev.pgmux.proxy.server.ServerConnection;

import java.util.Map;

/**
 * Turns a client's startup settings into one statement that applies those a server does not already
 * have. {@code set_config} takes values exactly as a startup packet does (a list for search_path),
 * which {@code SET name = 'value'} would not.
 */
final class SessionSettings {
    private SessionSettings() {}

    /** The SQL to run, or null when the server already reports every value (or there are none). */
    static String toSql(Map<String, String> settings, ServerConnection server) {
        StringBuilder sql = null;
        for (Map.Entry<String, String> setting : settings.entrySet()) {
            if (setting.getValue().equals(server.parameter(setting.getKey()))) {
                continue;
            }
            sql = sql == null ? new StringBuilder("SELECT ") : sql.append(", ");
            sql.append("pg_catalog.set_config(").append(literal(setting.getKey())).append(", ")
                    .append(literal(setting.getValue())).append(", false)");
        }
        return sql == null ? null : sql.toString();
    }

    /** An escape-string literal, safe whatever standard_conforming_strings says. */
    static String literal(String value) {
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
}
