package dev.pgmux.proxy.server;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.SslMode;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;

/** Opens and logs in server connections, on the event loop of whoever asked (no thread hop later). */
public final class ServerConnector {
    private static final Logger log = LoggerFactory.getLogger(ServerConnector.class);
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
     * the server sent its first ReadyForQuery. Its TLS follows libpq's {@code sslmode}: {@code prefer} and
     * {@code allow} may take a second connection (see {@link Encryption#retry}).
     */
    public Future<ServerConnection> connect(EventLoop loop, ServerConnection connection) {
        Promise<ServerConnection> ready = loop.newPromise();
        attempt(loop, connection, Encryption.first(connection.target().tls().mode()), ready);
        return ready;
    }

    private void attempt(EventLoop loop, ServerConnection connection, Encryption encryption,
                         Promise<ServerConnection> ready) {
        ServerTarget target = connection.target();
        Promise<ServerConnection> attempt = loop.newPromise();
        UpstreamTlsNegotiation negotiation = encryption == Encryption.TLS ? new UpstreamTlsNegotiation(target) : null;
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, target.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connection.bind(ch);
                        if (negotiation != null) {
                            ch.pipeline().addLast("tls-negotiation", negotiation);
                        }
                        ch.pipeline().addLast("frames", FrameDecoder.batches(maxFrameSize));
                        ch.pipeline().addLast("server", new ServerHandler(connection, attempt, random, repeats));
                    }
                });
        // A server that falls silent (its host or the network gone, no reset) is noticed by the probes.
        transport.keepalive(bootstrap, keepalive);
        ChannelFuture connected = bootstrap.connect(target.host(), target.port());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                attempt.tryFailure(new UpstreamException("could not connect to upstream " + target.host() + ":" + target.port()
                        + ": " + f.cause().getMessage(), f.cause()));
            }
        });
        attempt.addListener((Future<ServerConnection> f) -> {
            if (f.isSuccess()) {
                ready.trySuccess(f.getNow());
                return;
            }
            Encryption next = encryption.retry(target.tls().mode(), negotiation, f.cause());
            if (next == null) {
                ready.tryFailure(f.cause());
            } else {
                log.debug("{}: login {} refused ({}); trying again {}", connection, encryption.words,
                        f.cause().getMessage(), next.words);
                attempt(loop, connection, next, ready);
            }
        });
    }

    /** Whether a connection attempt asks for TLS. */
    private enum Encryption {
        PLAINTEXT("in plaintext"), TLS("over TLS");

        final String words;

        Encryption(String words) {
            this.words = words;
        }

        static Encryption first(SslMode mode) {
            return mode == SslMode.DISABLE || mode == SslMode.ALLOW ? PLAINTEXT : TLS;
        }

        /**
         * The second attempt after this one failed, or null, as libpq: {@code allow} tries TLS once the
         * server refused the plaintext login (an ErrorResponse, such as pg_hba's "no encryption");
         * {@code prefer} tries plaintext once the server refused the login over TLS, or the TLS handshake
         * failed (for servers whose pg_hba.conf says {@code hostnossl}). A connect that failed or timed out
         * is not tried again: the next attempt would fare no better.
         */
        Encryption retry(SslMode mode, UpstreamTlsNegotiation negotiation, Throwable cause) {
            boolean refused = cause instanceof UpstreamException e && e.serverError() != null;
            if (this == PLAINTEXT) {
                return mode == SslMode.ALLOW && refused ? TLS : null;
            }
            boolean tlsFailed = negotiation != null && negotiation.encrypted() && (refused || negotiation.handshakeFailed());
            return mode == SslMode.PREFER && tlsFailed ? PLAINTEXT : null;
        }
    }

    /**
     * Sends a CancelRequest for the given server key to the server's address, on a connection of its own.
     * The future completes when that connection has closed: Postgres closes it once it has signalled the
     * backend, so from then on the cancel can no longer reach whatever the server runs next.
     *
     * <p>Under {@code require} and {@code verify-*} the CancelRequest goes over TLS, negotiated and checked as
     * the server connections are (if the server answers 'N' nothing is sent): the cancel key is not sent in
     * the clear where the operator asked for encryption, and an upstream behind a proxy that takes TLS only
     * (as some hosted Postgres services do) is reached. Under {@code prefer}, {@code allow} and
     * {@code disable} it goes in plaintext, as libpq's {@code PQcancel} sends it: Postgres takes a plaintext
     * CancelRequest whatever its pg_hba.conf says, and a cancel costs no handshake.
     */
    public Future<?> cancel(EventLoop loop, ServerTarget target, int processId, int secretKey) {
        boolean tls = target.tls().mode().requiresTls();
        return new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, target.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls) {
                            ch.pipeline().addLast("tls-negotiation", new UpstreamTlsNegotiation(target));
                        }
                        ch.pipeline().addLast("cancel", new CancelSender(processId, secretKey, target.connectTimeout()));
                    }
                })
                .connect(target.host(), target.port())
                .channel().closeFuture();
    }
}
