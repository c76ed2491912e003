package dev.pgmux.loadtest.engine;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Where the load goes: one Postgres-speaking server (Postgres, pgmux, another pooler), with the user and
 * password to log in as. Read from {@code postgresql://USER:PASSWORD@HOST:PORT/DB?key=value} (libpq style)
 * or {@code jdbc:postgresql://HOST:PORT/DB?user=...&password=...} (pgjdbc style); query parameters are
 * passed to pgjdbc as connection properties.
 */
public record Target(String host, int port, String database, String user, String password,
                     Map<String, String> properties) {

    public Target {
        properties = Map.copyOf(properties);
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("the target URL has no host");
        }
        if (user == null || user.isEmpty()) {
            throw new IllegalArgumentException("the target has no user: put it in the URL or give --user");
        }
    }

    /** Parses a URL; {@code user}/{@code password} (when not null) override the URL's. */
    public static Target parse(String url, String user, String password) {
        String rest;
        boolean jdbc;
        if (url.startsWith("jdbc:postgresql://")) {
            rest = url.substring("jdbc:postgresql://".length());
            jdbc = true;
        } else if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
            rest = url.substring(url.indexOf("://") + 3);
            jdbc = false;
        } else {
            throw new IllegalArgumentException("not a Postgres URL (postgresql://... or jdbc:postgresql://...): " + redact(url));
        }
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String urlUser = null;
        String urlPassword = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            if (jdbc) {
                throw new IllegalArgumentException("a jdbc: URL takes the user as ?user=...: " + redact(url));
            }
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            urlUser = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
            urlPassword = colon >= 0 ? decode(userInfo.substring(colon + 1)) : null;
        }
        String database = "postgres";
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            String db = decode(rest.substring(slash + 1));
            if (!db.isEmpty()) {
                database = db;
            }
            rest = rest.substring(0, slash);
        }
        String host = rest;
        int port = 5432;
        int colon = rest.startsWith("[") ? rest.indexOf(':', rest.indexOf(']')) : rest.lastIndexOf(':');
        if (colon >= 0) {
            host = rest.substring(0, colon);
            try {
                port = Integer.parseInt(rest.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in " + redact(url));
            }
        }
        if (host.contains(",")) {
            throw new IllegalArgumentException("one host only, got " + host);
        }
        Map<String, String> props = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq >= 0 ? pair.substring(0, eq) : pair);
            String v = eq >= 0 ? decode(pair.substring(eq + 1)) : "";
            switch (k) {
                case "user" -> urlUser = v;
                case "password" -> urlPassword = v;
                default -> props.put(k, v);
            }
        }
        return new Target(host, port, database, user != null ? user : urlUser,
                password != null ? password : urlPassword, props);
    }

    /** The same server with another port (and the other settings kept). */
    public Target withPort(int newPort) {
        return new Target(host, newPort, database, user, password, properties);
    }

    public Target withUser(String newUser) {
        return new Target(host, port, database, newUser, password, properties);
    }

    public String jdbcUrl() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    /** pgjdbc properties: the URL's, then {@code extra} (a driver's), then user and password. */
    public Properties connectionProperties(Map<String, String> extra) {
        Properties p = new Properties();
        p.putAll(properties);
        p.putAll(extra);
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.putIfAbsent("ApplicationName", "pgmux-loadtest");
        return p;
    }

    /** For reports and logs: {@code postgresql://user@host:port/db}, never the password. */
    public String display() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "postgresql://" + user + "@" + h + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return display();
    }

    /** A URL with any password removed, for error messages. */
    public static String redact(String url) {
        return url.replaceAll("(://[^:/@]*:)[^@]*@", "$1***@").replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
