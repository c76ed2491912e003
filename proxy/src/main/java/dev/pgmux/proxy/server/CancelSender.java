package dev.pgmux.proxy.server;

import dev.pgmux.protocol.message.frontend.CancelRequest;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/** Writes one CancelRequest on a fresh connection and closes it, as libpq's PQcancel does. */
final class CancelSender extends ChannelInboundHandlerAdapter {
    private final int processId;
    private final int secretKey;

    CancelSender(int processId, int secretKey) {
        this.processId = processId;
        this.secretKey = secretKey;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(FrontendCodec.encode(new CancelRequest(processId, secretKey), ctx.alloc()))
                .addListener(ChannelFutureListener.CLOSE);
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
