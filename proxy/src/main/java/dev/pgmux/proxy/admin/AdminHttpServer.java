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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import dev.pgmux.proxy.api.TenantApi;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.reload.ReloadResult;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP port: {@code /health} (the process is up), {@code /ready} (listening; 503 from the start of a shutdown), {@code /metrics}
 * (Prometheus text or OpenMetrics, as the {@code Accept} header asks; behind a bearer token when one is
 * configured), {@code /pools}, and {@code POST /reload} (re-read the configuration file: 200 and what
 * changed, or 422 and every problem), and the tenant API under {@code /api} ({@link TenantApi}; 404 while it is
 * off).
 */
public final class AdminHttpServer extends ChannelInitializer<Channel> {
    private final BooleanSupplier ready;
    private final Supplier<String> poolsText;
    private final Supplier<CompletionStage<ReloadResult>> reload;
    private final Metrics metrics;
    /** The token in effect now (a reload may change it); empty: none asked for. */
    private final Supplier<Optional<String>> metricsToken;
    /** The tenant API; null without a metadata database (then /api answers that it is off). */
    private final TenantApi api;

    /** @param reload starts a reload off the event loop (it reads files and derives secrets) */
    public AdminHttpServer(BooleanSupplier ready, Supplier<String> poolsText,
                           Supplier<CompletionStage<ReloadResult>> reload, Metrics metrics,
                           Supplier<Optional<String>> metricsToken) {
        this(ready, poolsText, reload, metrics, metricsToken, null);
    }

    public AdminHttpServer(BooleanSupplier ready, Supplier<String> poolsText,
                           Supplier<CompletionStage<ReloadResult>> reload, Metrics metrics,
                           Supplier<Optional<String>> metricsToken, TenantApi api) {
        this.ready = ready;
        this.poolsText = poolsText;
        this.reload = reload;
        this.metrics = metrics;
        this.metricsToken = metricsToken;
        this.api = api;
    }

    @Override
    protected void initChannel(Channel channel) {
        // Bodies are the API's tenants; a larger one is answered 413 by the aggregator.
        channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(TenantApi.MAX_BODY_BYTES), new Handler());
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri().split("\\?", 2)[0];
            if (TenantApi.isApiPath(path)) {
                api(ctx, request, path);
                return;
            }
            if (path.equals("/reload")) {
                reload(ctx, request);
                return;
            }
            FullHttpResponse response = switch (path) {
                case "/health" -> text(HttpResponseStatus.OK, "ok\n");
                case "/ready" -> ready.getAsBoolean() ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n"); // starting, or shutting down
                case "/pools" -> text(HttpResponseStatus.OK, poolsText.get());
                case "/metrics" -> metrics(request);
                default -> text(HttpResponseStatus.NOT_FOUND, "not found: " + path + "\n");
            };
            respond(ctx, HttpUtil.isKeepAlive(request), response);
        }

        /** POST only: the answer is written when the reload, on its own thread, is done. */
        private void reload(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.method().equals(HttpMethod.POST)) {
                FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST /reload\n");
                response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.POST.name());
                respond(ctx, keepAlive, response);
                return;
            }
            reload.get().whenComplete((result, error) -> respond(ctx, keepAlive, switch (result) {
                case null -> text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + error + "\n");
                case ReloadResult.Applied applied -> text(HttpResponseStatus.OK, applied.text() + "\n");
                case ReloadResult.Refused refused -> text(HttpResponseStatus.UNPROCESSABLE_ENTITY, refused.text() + "\n");
            }));
        }

        /** The tenant API: answered when its database work, on the API's threads, is done. */
        private void api(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (api == null) {
                respond(ctx, keepAlive, json(TenantApi.Response.off()));
                return;
            }
            byte[] body = new byte[request.content().readableBytes()];
            request.content().getBytes(request.content().readerIndex(), body);
            api.handle(request.method().name(), path, request.headers().get(HttpHeaderNames.AUTHORIZATION), body)
                    .whenComplete((response, error) -> respond(ctx, keepAlive, response != null ? json(response)
                            : text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "the request failed\n")));
        }

        private void respond(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
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
        Optional<String> token = metricsToken.get();
        if (token.isPresent() && !authorized(request.headers().get(HttpHeaderNames.AUTHORIZATION), token.get())) {
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
    private static boolean authorized(String header, String token) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8));
    }

    private static FullHttpResponse json(TenantApi.Response answer) {
        ByteBuf content = answer.body() == null ? Unpooled.EMPTY_BUFFER
                : Unpooled.copiedBuffer(answer.body(), StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(answer.status()), content);
        if (answer.body() != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        answer.headers().forEach(response.headers()::set);
        return response;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return response;
    }
}
