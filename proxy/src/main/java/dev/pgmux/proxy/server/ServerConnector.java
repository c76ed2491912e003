package dev.pgmux.proxy.server;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.proxy.log.Repeats;
import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.proxy.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.security.SecureRandom;

/** Opens and logs in server connections, on the event loop of whoever asked (no thread hop later). */
public final class ServerConnector {
    private final Transport transport;
    private final int maxFrameSize;
    /** Changed by a reload; applies to server connections opened from then on. */
    private volatile LimitsConfig.Keepalive keepalive;
    private final SecureRandom random = new SecureRandom();
    private final Repeats repeats;

    /** @param repeats for the lines every server of a restarted upstream would write at once */
    public ServerConnector(Transport transport, int maxFrameSize, LimitsConfig.Keepalive keepalive, Repeats repeats) {
        this.transport = transport;
        this.maxFrameSize = maxFrameSize;
        this.keepalive = keepalive;
        this.repeats = repeats;
    }

    /** The TCP keepalive of server connections opened from now on (a reload changed it). */
    public void keepalive(LimitsConfig.Keepalive keepalive) {
        this.keepalive = keepalive;
    }

    /**
     * Connects and logs in {@code connection} (new, not yet bound to a channel); the future completes once
     * the server sent its first ReadyForQuery.
     */
    public Future<ServerConnection> connect(EventLoop loop, ServerConnection connection) {
        ServerTarget target = connection.target();
        Promise<ServerConnection> ready = loop.newPromise();
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, target.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connection.bind(ch);
                        ch.pipeline().addLast("frames", FrameDecoder.batches(maxFrameSize));
                        ch.pipeline().addLast("server", new ServerHandler(connection, ready, random, repeats));
                    }
                });
        // A server that falls silent (its host or the network gone, no reset) is noticed by the probes.
        transport.keepalive(bootstrap, keepalive);
        ChannelFuture connected = bootstrap.connect(target.host(), target.port());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(new UpstreamException("could not connect to upstream " + target.host() + ":" + target.port()
                        + ": " + f.cause().getMessage(), f.cause()));
            }
        });
        return ready;
    }

    /**
     * Sends a CancelRequest for the given server key to the server's address, on a connection of its own.
     * The future completes when that connection has closed: Postgres closes it once it has signalled the
     * backend, so from then on the cancel can no longer reach whatever the server runs next.
     */
    public Future<?> cancel(EventLoop loop, ServerTarget target, int processId, int secretKey) {
        return new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, target.connectTimeout().toMillis()))
                .handler(new CancelSender(processId, secretKey, target.connectTimeout()))
                .connect(target.host(), target.port())
                .channel().closeFuture();
    }
}
