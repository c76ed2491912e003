package dev.pgmux.proxy.log;

import dev.pgmux.config.LogConfig;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.SessionEnd;
import dev.pgmux.proxy.tenant.Tenant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One line per login and one per connection end, on the logger {@value #LOGGER} at INFO (PgBouncer's
 * {@code log_connections} and {@code log_disconnections}):
 *
 * <pre>
 * client 17 login: user=app tenant=acme database=postgres address=127.0.0.1:51234 mode=transaction tls=no
 * client 17 disconnect: user=app ... tls=no duration=12.345s reason="client closed"
 * client 18 login failed: user=app ... duration=0.004s reason="login failed: auth_failed (FATAL 28P01 ...)"
 * </pre>
 *
 * The same values go with each line as key-value pairs, which the JSON format writes as fields. Failed logins
 * come in storms (a client retrying with an old password, a scan): per failure reason and tenant, one line per
 * {@code log.repeat_interval}, then a count of the others. Nothing of the authentication exchange is ever
 * written; names the client chose are cut to {@value #MAX_NAME} characters and control characters replaced.
 * Connections that never sent a startup packet (health checks, cancel requests) get no line.
 */
public final class ConnectionLog {
    public static final String LOGGER = "pgmux.connections";
    static final int MAX_NAME = 64;
    static final int MAX_REASON = 256;
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final Supplier<LogConfig> config;
    private final Repeats repeats;

    ConnectionLog(Supplier<LogConfig> config, Repeats repeats) {
        this.config = config;
        this.repeats = repeats;
    }

    /** The client was welcomed: logged in, ready for its first query. */
    public void loggedIn(ClientConnection client) {
        if (config.get().logConnections() && log.isInfoEnabled()) {
            Line line = new Line(client, "login");
            line.event.setMessage(line.text.toString()).log();
        }
    }

    /** The client's connection ended, after a startup packet. */
    public void ended(ClientConnection client, SessionEnd end) {
        if (!config.get().logDisconnections() || !log.isInfoEnabled()) {
            return;
        }
        if (end.kind() != SessionEnd.Kind.LOGIN_FAILED) {
            ending(client, "disconnect", end);
            return;
        }
        Tenant tenant = client.tenant();
        String what = "login failed: " + end.loginFailure() + (tenant == null ? "" : " (tenant " + tenant.id() + ")");
        repeats.write(what, (count, seconds) -> {
            LoggingEventBuilder summary = log.atInfo().addKeyValue("event", "login_failed")
                    .addKeyValue("login_failure", end.loginFailure());
            if (tenant != null) {
                summary.addKeyValue("tenant", tenant.id());
            }
            summary.addKeyValue("repeats", count).log("{}: {} more in {} s", what, count, seconds);
        }, () -> ending(client, "login failed", end));
    }

    private static void ending(ClientConnection client, String event, SessionEnd end) {
        Line line = new Line(client, event);
        long millis = Math.max(0, System.currentTimeMillis() - client.connectedAtMillis());
        line.add("duration", String.format(Locale.ROOT, "%d.%03ds", millis / 1000, millis % 1000));
        line.event.addKeyValue("duration_ms", millis);
        line.add("reason", clean(end.text(), MAX_REASON));
        line.event.addKeyValue("end", end.kind().name().toLowerCase(Locale.ROOT));
        if (end.sqlState() != null) {
            line.event.addKeyValue("sqlstate", end.sqlState());
        }
        if (end.loginFailure() != null) {
            line.event.addKeyValue("login_failure", end.loginFailure());
        }
        line.event.setMessage(line.text.toString()).log();
    }

    /** A line's text and its key-value pairs, built side by side. */
    private static final class Line {
        final StringBuilder text = new StringBuilder(160);
        final LoggingEventBuilder event;

        Line(ClientConnection client, String event) {
            this.event = log.atLevel(Level.INFO).addKeyValue("event", event.replace(' ', '_'))
                    .addKeyValue("client", client.id());
            text.append("client ").append(client.id()).append(' ').append(event).append(':');
            Tenant tenant = client.tenant();
            add("user", userName(client, tenant));
            if (tenant != null) {
                add("tenant", tenant.id());
            }
            if (client.database() != null) {
                add("database", clean(client.database()));
            }
            add("address", address(client.remoteAddress()));
            add("mode", client.mode().name().toLowerCase(Locale.ROOT));
            add("tls", client.tls() ? "yes" : "no");
        }

        void add(String key, String value) {
            if (value == null) {
                return;
            }
            event.addKeyValue(key, value);
            text.append(' ').append(key).append('=');
            if (value.isEmpty() || value.indexOf(' ') >= 0 || value.indexOf('"') >= 0 || value.indexOf('=') >= 0) {
                text.append('"').append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            } else {
                text.append(value);
            }
        }
    }

    /** The user as Postgres knows it: the login name without its {@code .tenant} suffix (console users: as given). */
    private static String userName(ClientConnection client, Tenant tenant) {
        if (client.user() != null) {
            return clean(client.user().name());
        }
        String name = client.loginName();
        if (name == null) {
            return null;
        }
        if (tenant != null && name.endsWith("." + tenant.id())) {
            name = name.substring(0, name.length() - tenant.id().length() - 1);
        }
        return clean(name);
    }

    static String clean(String name) {
        return clean(name, MAX_NAME);
    }

    static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            String host = inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return address == null ? null : address.toString();
    }

    /** Text that may hold what a client chose, fit for one log line: control characters replaced, at most {@code max} characters. */
    static String clean(String name, int max) {
        StringBuilder out = new StringBuilder(Math.min(name.length(), max + 3));
        for (int i = 0; i < name.length() && out.length() < max; i++) {
            char c = name.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        if (name.length() > out.length()) {
            if (Character.isHighSurrogate(out.charAt(out.length() - 1))) {
                out.setLength(out.length() - 1); // not half a character
            }
            out.append("...");
        }
        return out.toString();
    }
}
