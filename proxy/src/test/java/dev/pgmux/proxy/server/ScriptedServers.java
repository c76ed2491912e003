package dev.pgmux.proxy.server;

import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.tls.UpstreamTlsContext;
import io.netty.channel.embedded.EmbeddedChannel;

import java.time.Duration;

/**
 * Server connections on an {@link EmbeddedChannel}, for tests that play the server themselves: what is
 * written to the connection is read from the channel's outbound side, and the test reports what the
 * server answered as {@link ServerHandler} would.
 */
public final class ScriptedServers {
    private static final ServerTarget TARGET = new ServerTarget(new PoolKey("tenant", "db", "user"), "localhost", 5432,
            "db", "user", new Credentials.Password("secret"), Duration.ofSeconds(5), UpstreamTlsContext.disabled());

    private ScriptedServers() {}

    /** A logged-in connection whose messages go to {@code channel}. */
    public static ServerConnection connection(EmbeddedChannel channel) {
        ServerConnection connection = new ServerConnection(TARGET);
        connection.bind(channel);
        return connection;
    }

    /** The server sent ReadyForQuery with this status: noted before anyone attached sees the message. */
    public static void readyForQuery(ServerConnection connection, byte status) {
        connection.transactionStatus(status);
    }
}
