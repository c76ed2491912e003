package dev.pgmux.config;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The zero-configuration start: one Postgres URL, {@code postgresql://USER:PASS@HOST:PORT/DB},
 * becomes a configuration with one tenant, {@value #TENANT_ID}, that serves plain user names.
 * Clients log in with the same user and password. Parsed by hand: {@code java.net.URI} rejects
 * passwords with unescaped special characters and quotes the whole URL, password included, in
 * its errors.
 */
public final class UpstreamUrl {

    public static final String TENANT_ID = "default";

    private static final String FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";
    /** libpq's names, the only query parameters pgmux takes from the URL. */
    private static final java.util.List<String> PARAMETERS = List.of("sslmode", "sslrootcert", "sslcert", "sslkey");

    private UpstreamUrl() {
    }

    /** @throws ConfigException when the URL is unusable; the message never contains the password */
    public static PgmuxConfig toConfig(String url) {
        String rest = stripScheme(url.trim());
        int at = rest.lastIndexOf('@');
        if (at < 0) {
            throw problem("user and password are missing (expected " + FORM + ")");
        }
        UserConfig user = user(rest.substring(0, at));
        UpstreamConfig upstream = upstream(rest.substring(at + 1));
        TenantConfig tenant = TenantConfig.of(TENANT_ID, upstream, List.of(user));
        return PgmuxConfig.of(tenant).withDefaultTenant(TENANT_ID);
    }

    private static String stripScheme(String url) {
        for (String scheme : List.of("postgresql://", "postgres://")) {
            if (url.regionMatches(true, 0, scheme, 0, scheme.length())) {
                return url.substring(scheme.length());
            }
        }
        throw problem("must start with postgresql:// or postgres:// (expected " + FORM + ")");
    }

    private static UserConfig user(String userInfo) {
        int colon = userInfo.indexOf(':');
        String name = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), "user name");
        if (name.isEmpty()) {
            throw problem("user name is missing (expected " + FORM + ")");
        }
        String password = colon < 0 ? "" : decode(userInfo.substring(colon + 1), "password");
        if (password.isEmpty()) {
            throw problem("password is missing: pgmux needs it to authenticate clients and to log in upstream"
                    + " (expected " + FORM + ")");
        }
        return new UserConfig(name, password);
    }

    private static UpstreamConfig upstream(String hostPathAndQuery) {
        int query = hostPathAndQuery.indexOf('?');
        String hostAndPath = query < 0 ? hostPathAndQuery : hostPathAndQuery.substring(0, query);
        UpstreamTls tls = query < 0 ? UpstreamTls.defaults() : tls(hostPathAndQuery.substring(query + 1));
        int slash = hostAndPath.indexOf('/');
        String authority = slash < 0 ? hostAndPath : hostAndPath.substring(0, slash);
        String database = slash < 0 ? "" : decode(hostAndPath.substring(slash + 1), "database");
        String host;
        Optional<String> port;
        if (authority.startsWith("[")) {
            // IPv6 literal: [::1]:5432
            int close = authority.indexOf(']');
            if (close < 0) {
                throw problem("unclosed [ in the host");
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty() && !after.startsWith(":")) {
                throw problem("unexpected text after the host");
            }
            port = after.isEmpty() ? Optional.empty() : Optional.of(after.substring(1));
        } else {
            int colon = authority.lastIndexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            port = colon < 0 ? Optional.empty() : Optional.of(authority.substring(colon + 1));
        }
        if (host.isEmpty()) {
            throw problem("host is missing (expected " + FORM + ")");
        }
        return new UpstreamConfig(host, port.map(UpstreamUrl::port).orElse(UpstreamConfig.DEFAULT_PORT),
                database.isEmpty() ? UpstreamConfig.DEFAULT_DATABASE : database, tls);
    }

    /** {@code sslmode=verify-full&sslrootcert=/etc/ca.pem}; the rules between them are the validator's. */
    private static UpstreamTls tls(String query) {
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), "query parameter name");
            if (!PARAMETERS.contains(name)) {
                throw problem("unsupported query parameter \"" + name + "\" (supported: " + String.join(", ", PARAMETERS) + ")");
            }
            if (eq < 0) {
                throw problem(name + " needs a value (" + name + "=...)");
            }
            if (values.put(name, decode(pair.substring(eq + 1), name)) != null) {
                throw problem(name + " is given twice");
            }
        }
        SslMode mode = SslMode.DEFAULT;
        if (values.containsKey("sslmode")) {
            mode = SslMode.fromConfigName(values.get("sslmode"));
            if (mode == null) {
                throw problem("sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got \""
                        + values.get("sslmode") + "\"");
            }
        }
        return new UpstreamTls(mode,
                Optional.ofNullable(values.get("sslrootcert")).filter(text -> !text.isEmpty()),
                Optional.ofNullable(values.get("sslcert")).filter(text -> !text.isEmpty()).map(java.nio.file.Path::of),
                Optional.ofNullable(values.get("sslkey")).filter(text -> !text.isEmpty()).map(java.nio.file.Path::of));
    }

    private static int port(String text) {
        if (!text.matches("\\d{1,5}") || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 65535) {
            throw problem("port must be a number 1..65535, got \"" + text + "\"");
        }
        return Integer.parseInt(text);
    }

    private static String decode(String text, String part) {
        try {
            return percentDecoded(text, part);
        } catch (IllegalArgumentException e) {
            throw problem(e.getMessage());
        }
    }

    /**
     * Percent-decoding as in a URL (a '+' stays a '+'); the error names the part, never its text (it may be a
     * password). Also {@link MetadataUrl}'s.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    static String percentDecoded(String text, String part) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        int i = 0;
        while (i < text.length()) {
            if (text.charAt(i) == '%') {
                int high = i + 1 < text.length() ? Character.digit(text.charAt(i + 1), 16) : -1;
                int low = i + 2 < text.length() ? Character.digit(text.charAt(i + 2), 16) : -1;
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException(
                            part + ": bad percent-encoding (% must be followed by two hex digits; write %25 for %)");
                }
                bytes.write(high * 16 + low);
                i += 3;
            } else {
                int next = text.indexOf('%', i);
                int end = next < 0 ? text.length() : next;
                bytes.writeBytes(text.substring(i, end).getBytes(StandardCharsets.UTF_8));
                i = end;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(part + ": percent-encoding does not decode to UTF-8");
        }
    }

    private static ConfigException problem(String problem) {
        return new ConfigException("invalid upstream URL", List.of("upstream URL: " + problem));
    }
}
