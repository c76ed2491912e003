package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.frontend.CancelRequest;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Writes one CancelRequest on a fresh connection and waits for the server to close it, as libpq's PQcancel
 * does: the close tells that the backend has been signalled. A server that keeps it open is left after
 * {@code timeout}.
 */
public final class CancelSender extends ChannelInboundHandlerAdapter {
    private final FrontendMessage request;
    private final Duration timeout;

    CancelSender(int processId, int secretKey, Duration timeout) {
        this(new CancelRequest(processId, secretKey), timeout);
    }

    /** Sends {@code request} (a CancelRequest, or a PeerCancelRequest to another pgmux instance) the same way. */
    public CancelSender(FrontendMessage request, Duration timeout) {
        this.request = request;
        this.timeout = timeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ScheduledFuture<?> giveUp = ctx.executor().schedule(() -> {
            ctx.close();
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        ctx.channel().closeFuture().addListener(f -> giveUp.cancel(false));
        if (ctx.pipeline().get(UpstreamTlsNegotiation.class) == null) {
            send(ctx);
        } // else once TLS is set up (or refused under prefer)
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event == UpstreamTlsNegotiation.Event.NEGOTIATED) {
            send(ctx);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    private void send(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(FrontendCodec.encode(request, ctx.alloc()))
                .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
