package dev.pgmux.config;

import java.util.Optional;

/**
 * {@code cluster.metadata_url}, {@code postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=MODE]}, taken
 * apart by hand so that no error message quotes the password (percent-decoded as {@link UpstreamUrl} does).
 */
public record MetadataUrl(String host, int port, String database, String user, String password, Optional<String> sslmode) {
    private static final String FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";

    /** @throws IllegalArgumentException with a message that never contains the password */
    public static MetadataUrl parse(String url) {
        String rest = url.trim();
        if (rest.startsWith("postgresql://")) {
            rest = rest.substring("postgresql://".length());
        } else if (rest.startsWith("postgres://")) {
            rest = rest.substring("postgres://".length());
        } else {
            throw new IllegalArgumentException("must be a URL of the form " + FORM);
        }
        int at = rest.lastIndexOf('@');
        if (at < 0) {
            throw new IllegalArgumentException("user and password are missing (expected " + FORM + ")");
        }
        String credentials = rest.substring(0, at);
        String location = rest.substring(at + 1);
        int colon = credentials.indexOf(':');
        String user = UpstreamUrl.percentDecoded(colon < 0 ? credentials : credentials.substring(0, colon), "user name");
        String password = colon < 0 ? "" : UpstreamUrl.percentDecoded(credentials.substring(colon + 1), "password");
        if (user.isEmpty()) {
            throw new IllegalArgumentException("the user is missing (expected " + FORM + ")");
        }
        Optional<String> sslmode = Optional.empty();
        int question = location.indexOf('?');
        if (question >= 0) {
            for (String parameter : location.substring(question + 1).split("&")) {
                if (parameter.startsWith("sslmode=")) {
                    sslmode = Optional.of(parameter.substring("sslmode=".length()));
                } else if (!parameter.isEmpty()) {
                    throw new IllegalArgumentException("unknown parameter \"" + parameter.split("=", 2)[0]
                            + "\" (only sslmode is read)");
                }
            }
            location = location.substring(0, question);
        }
        int slash = location.indexOf('/');
        if (slash < 0 || slash == location.length() - 1) {
            throw new IllegalArgumentException("the database is missing (expected " + FORM + ")");
        }
        String database = UpstreamUrl.percentDecoded(location.substring(slash + 1), "database");
        String hostPort = location.substring(0, slash);
        String host = hostPort;
        int port = 5432;
        int portColon = hostPort.lastIndexOf(':');
        if (portColon >= 0 && !hostPort.endsWith("]")) {
            host = hostPort.substring(0, portColon);
            try {
                port = Integer.parseInt(hostPort.substring(portColon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the port is not a number (expected " + FORM + ")");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("the port must be 1..65535, got " + port);
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("the host is missing (expected " + FORM + ")");
        }
        return new MetadataUrl(host, port, database, user, password, sslmode);
    }

    /** The URL with its password left out, for logs. */
    public static String redacted(String url) {
        try {
            MetadataUrl parsed = parse(url);
            return "postgresql://" + parsed.user + ":***@" + parsed.host + ":" + parsed.port + "/" + parsed.database;
        } catch (IllegalArgumentException e) {
            return "(unusable URL)";
        }
    }

    @Override
    public String toString() {
        return "MetadataUrl[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
