package dev.pgmux.proxy.console;

import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.ServerConnection;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SHOW CLIENTS and SHOW SERVERS, PgBouncer's socket rows. {@code ptr} and {@code link} pair a client with
 * its server ({@code client:ID}, {@code server:ID}); {@code id} is the connection's own number, the one
 * KILL_CLIENT takes. Times are UTC, written as PgBouncer writes them.
 */
final class ShowSockets {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private ShowSockets() {}

    static Result.Rows clients(ProxyRuntime runtime, List<List<Object>> consoleRows) {
        long now = System.nanoTime();
        List<List<Object>> rows = new ArrayList<>();
        for (ClientConnection client : runtime.clients().all()) {
            ClientState state = client.state();
            if (state == ClientState.LOGIN || state == ClientState.CLOSED || client.tenant() == null
                    || client.user() == null) {
                continue; // still logging in (PgBouncer lists those in SHOW SOCKETS only), or a console client
            }
            ServerConnection server = client.server();
            long waitMicros = state == ClientState.WAITING ? Math.max(0, now - client.waitingSinceNanos()) / 1000 : 0;
            List<Object> row = new ArrayList<>(Arrays.asList("C", client.user().name(),
                    ConsoleDatabase.name(client.tenant().id(), client.database()), "none",
                    state.name().toLowerCase(java.util.Locale.ROOT)));
            addresses(row, client.remoteAddress(), client.channel().localAddress());
            row.addAll(Arrays.asList(time(client.connectedAtMillis()), time(client.lastRequestAtMillis()),
                    (int) (waitMicros / 1_000_000), (int) (waitMicros % 1_000_000), 0,
                    "client:" + client.id(), server == null ? "" : "server:" + server.id(), 0,
                    client.tls() ? tls(client.channel()) : "",
                    client.sessionParameters().getOrDefault("application_name", ""), client.preparedStatements(),
                    (int) client.id(),
                    client.tenant().id(), ShowPools.modeName(client.mode())));
            rows.add(row);
        }
        rows.addAll(consoleRows);
        return Result.Rows.of(ShowTable.CLIENTS, rows);
    }

    static Result.Rows servers(ProxyRuntime runtime) {
        Map<ServerConnection, ClientConnection> users = new HashMap<>();
        for (ClientConnection client : runtime.clients().all()) {
            ServerConnection server = client.server();
            if (server != null) {
                users.put(server, client);
            }
        }
        long now = System.nanoTime();
        List<List<Object>> rows = new ArrayList<>();
        for (ServerPool pool : runtime.pools().all()) {
            for (ServerConnection server : pool.servers()) {
                String state = switch (server.state()) {
                    case IN_USE -> "active";
                    case IDLE -> "idle";
                    case CONNECTING -> "new";
                    case CANCELLING -> "being_canceled";
                    case CLOSING, CLOSED -> null;
                };
                if (state == null) {
                    continue;
                }
                ClientConnection client = users.get(server);
                List<Object> row = new ArrayList<>(Arrays.asList("S", pool.key().user(),
                        ConsoleDatabase.name(pool.key()), "none", state));
                addresses(row, server.channel());
                row.addAll(Arrays.asList(time(millisAgo(server.ageNanos(now))),
                        time(millisAgo(now - server.idleSinceNanos())), 0, 0,
                        pool.isCloseNeeded(server) ? 1 : 0, "server:" + server.id(),
                        client == null ? "" : "client:" + client.id(),
                        server.backendKey() == null ? 0 : server.backendKey().processId(), "",
                        client == null ? "" : client.sessionParameters().getOrDefault("application_name", ""),
                        server.session().statementCount(), (int) server.id(), pool.key().tenant()));
                rows.add(row);
            }
        }
        return Result.Rows.of(ShowTable.SERVERS, rows);
    }

    /** addr, port, local_addr, local_port of a channel (nulls and 0 before it has them). */
    static void addresses(List<Object> row, Channel channel) {
        addresses(row, channel == null ? null : channel.remoteAddress(), channel == null ? null : channel.localAddress());
    }

    /** addr, port, local_addr, local_port; a client's addr is the one a PROXY protocol header named, if any. */
    static void addresses(List<Object> row, SocketAddress remote, SocketAddress local) {
        row.add(host(remote));
        row.add(port(remote));
        row.add(host(local));
        row.add(port(local));
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : null;
    }

    private static int port(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getPort() : 0;
    }

    /** The wall-clock time {@code nanos} ago. */
    private static long millisAgo(long nanos) {
        return System.currentTimeMillis() - nanos / 1_000_000;
    }

    /** A wall-clock time as PgBouncer shows it, or null before it happened. */
    static String time(long millis) {
        return millis <= 0 ? null : TIME.format(Instant.ofEpochMilli(millis));
    }

    private static String tls(Channel channel) {
        SslHandler handler = channel.pipeline().get(SslHandler.class);
        SSLSession session = handler == null ? null : handler.engine().getSession();
        return session == null ? "" : session.getProtocol() + "/" + session.getCipherSuite();
    }
}
