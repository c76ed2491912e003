package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.SslRequest;
import dev.pgmux.proxy.tls.UpstreamTlsContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/**
 * The TLS phase of a connection to an upstream, before its StartupMessage (or CancelRequest), as libpq
 * does it:
 * <pre>
 *   pgmux                                   server
 *   SSLRequest (int32 8, int32 80877103) -&gt;
 *                                        &lt;- 'S'    -&gt; TLS handshake (SslHandler first in the pipeline),
 *                                                     then {@link #NEGOTIATED}: the login goes on over TLS
 *                                        &lt;- 'N'    -&gt; prefer, allow: {@link #NEGOTIATED} in plaintext;
 *                                                     require, verify-*: "server does not support SSL, ..."
 *                                        &lt;- other -&gt; "received invalid response to SSL negotiation"
 * </pre>
 * Bytes that come with the 'S', before the handshake, are refused: a man in the middle could have put them
 * there to be read as if they came over TLS (CVE-2021-23222). The handlers after this one see
 * {@code channelActive} at once (to start their timers) and must wait for {@link #NEGOTIATED} before
 * writing. A failure reaches them as an {@link UpstreamException} naming the tenant and the reason, then
 * the channel closes. This handler removes itself once done.
 */
final class UpstreamTlsNegotiation extends ChannelInboundHandlerAdapter {
    /** The user event that says the connection is ready for the StartupMessage (encrypted or not). */
    enum Event { NEGOTIATED }

    private enum Phase { ANSWER, HANDSHAKE, DONE }

    private final ServerTarget target;
    private final UpstreamTlsContext tls;
    private Phase phase = Phase.ANSWER;
    private boolean encrypted;
    private boolean handshakeFailed;

    UpstreamTlsNegotiation(ServerTarget target) {
        this.target = target;
        this.tls = target.tls();
    }

    /** Whether the server answered 'S' and TLS was (or was being) set up. */
    boolean encrypted() {
        return encrypted;
    }

    /** Whether the TLS handshake itself failed (an untrusted certificate, a protocol the server refused, ...). */
    boolean handshakeFailed() {
        return handshakeFailed;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        if (tls.problem() != null) {
            fail(ctx, tls.problem(), null);
            return;
        }
        ctx.writeAndFlush(FrontendCodec.encode(SslRequest.INSTANCE, ctx.alloc()), ctx.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase != Phase.ANSWER) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            if (!in.isReadable()) {
                return;
            }
            byte answer = in.readByte();
            switch (answer) {
                case 'S' -> {
                    if (in.isReadable()) {
                        fail(ctx, "received unencrypted data after SSL response", null);
                    } else {
                        startTls(ctx);
                    }
                }
                case 'N' -> {
                    if (tls.mode().requiresTls()) {
                        fail(ctx, "server does not support SSL, but SSL was required", null);
                    } else if (in.isReadable()) {
                        fail(ctx, "received unexpected data after SSL response", null);
                    } else {
                        done(ctx);
                    }
                }
                default -> fail(ctx, "received invalid response to SSL negotiation: "
                        + (answer >= 0x20 && answer < 0x7f ? "'" + (char) answer + "'" : "byte " + (answer & 0xff)), null);
            }
        } finally {
            in.release();
        }
    }

    private void startTls(ChannelHandlerContext ctx) {
        SslHandler ssl = tls.newHandler(ctx.alloc(), target.host(), target.port());
        encrypted = true;
        phase = Phase.HANDSHAKE;
        ctx.pipeline().addFirst("tls", ssl); // starts the handshake: the channel is active
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                done(ctx);
            } else {
                handshakeFailed = phase == Phase.HANDSHAKE;
                fail(ctx, describe(f.cause()), f.cause());
            }
        });
    }

    private void done(ChannelHandlerContext ctx) {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        ctx.fireUserEventTriggered(Event.NEGOTIATED);
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    private void fail(ChannelHandlerContext ctx, String reason, Throwable cause) {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        ctx.fireExceptionCaught(UpstreamException.loginFailed("tenant " + target.key().tenant() + ": TLS with " + target.host()
                + ":" + target.port() + " failed: " + reason, cause));
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (phase == Phase.HANDSHAKE) {
            return; // the handshake's future fails too, and says it once (see startTls)
        }
        ctx.fireExceptionCaught(cause);
    }

    /** What went wrong in a handshake, in words an operator can act on. */
    static String describe(Throwable failure) {
        Throwable cause = failure instanceof DecoderException && failure.getCause() != null ? failure.getCause() : failure;
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (has(cause, CertPathBuilderException.class) || has(cause, CertPathValidatorException.class)) {
            return "certificate not trusted (" + message + ")";
        }
        if (has(cause, CertificateException.class) && (message.contains("subject alternative") || message.contains("No name matching"))) {
            return "certificate does not match the host name (" + message + ")";
        }
        return message;
    }

    private static boolean has(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
