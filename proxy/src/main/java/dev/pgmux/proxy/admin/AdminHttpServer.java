package dev.pgmux.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import dev.pgmux.proxy.metrics.Metrics;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP port: {@code /health} (the process is up), {@code /ready} (listening), {@code /metrics}
 * (Prometheus text or OpenMetrics, as the {@code Accept} header asks; behind a bearer token when one is
 * configured), {@code /pools}.
 */
public final class AdminHttpServer extends ChannelInitializer<Channel> {
    private final BooleanSupplier ready;
    private final Supplier<String> poolsText;
    private final Metrics metrics;
    private final byte[] metricsToken;

    public AdminHttpServer(BooleanSupplier ready, Supplier<String> poolsText, Metrics metrics, Optional<String> metricsToken) {
        this.ready = ready;
        this.poolsText = poolsText;
        this.metrics = metrics;
        this.metricsToken = metricsToken.map(token -> token.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    @Override
    protected void initChannel(Channel channel) {
        channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Handler());
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri().split("\\?", 2)[0];
            FullHttpResponse response = switch (path) {
                case "/health" -> text(HttpResponseStatus.OK, "ok\n");
                case "/ready" -> ready.getAsBoolean() ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "starting\n");
                case "/pools" -> text(HttpResponseStatus.OK, poolsText.get());
                case "/metrics" -> metrics(request);
                default -> text(HttpResponseStatus.NOT_FOUND, "not found: " + path + "\n");
            };
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            var future = ctx.writeAndFlush(response);
            if (!keepAlive) {
                future.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private FullHttpResponse metrics(FullHttpRequest request) {
        if (metricsToken != null && !authorized(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse response = text(HttpResponseStatus.UNAUTHORIZED, "a bearer token is required\n");
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"pgmux\"");
            return response;
        }
        Metrics.Scrape scrape = metrics.scrape(request.headers().get(HttpHeaderNames.ACCEPT));
        FullHttpResponse response = text(HttpResponseStatus.OK, scrape.body());
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, scrape.contentType());
        return response;
    }

    /** Compares in constant time: the answer's timing says nothing about the token. */
    private boolean authorized(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8), metricsToken);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return response;
    }
}
