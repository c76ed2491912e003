package dev.pgmux.proxy.client;

import dev.pgmux.config.PoolMode;
import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.proxy.ProxyRuntime;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of a client connection: the PROXY protocol header where the listener reads one, framing
 * (startup phase first), then the login. One instance serves
 * every connection of a listener: it puts the frame decoder in its own place and the login handler after it.
 * Unlike Netty's ChannelInitializer it keeps no set of the channels it is initialising (a concurrent map's
 * insert and removal, and a task queued to do the latter, per connection).
 */
@ChannelHandler.Sharable
public final class ClientChannelInitializer extends ChannelHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientChannelInitializer.class);

    private final ProxyRuntime runtime;
    private final PoolMode mode;
    /** Null when the listener reads no PROXY protocol header (listen.* does not change in a running process). */
    private final ProxyHeaderHandler.Settings proxyHeader;

    public ClientChannelInitializer(ProxyRuntime runtime, PoolMode mode) {
        this.runtime = runtime;
        this.mode = mode;
        var proxyProtocol = runtime.config().listen().proxyProtocol();
        this.proxyHeader = proxyProtocol.enabled() ? ProxyHeaderHandler.Settings.of(proxyProtocol) : null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        try {
            var limits = runtime.config().limits();
            FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, limits.maxFrameSize(), limits.maxStartupPacketSize());
            ChannelPipeline pipeline = ctx.pipeline();
            pipeline.replace(this, "frames", decoder);
            LoginHandler login = new LoginHandler(runtime, decoder, mode);
            pipeline.addLast("login", login);
            if (proxyHeader != null) {
                pipeline.addFirst("proxy-header-start", new ProxyHeaderHandler(proxyHeader, login.client()));
            }
        } catch (RuntimeException e) {
            log.warn("cannot set up a client connection: {}", e.toString(), e);
            ctx.close();
        }
    }
}
