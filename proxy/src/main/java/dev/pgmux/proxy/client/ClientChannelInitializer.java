package dev.pgmux.proxy.client;

import dev.pgmux.config.PoolMode;
import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.proxy.ProxyRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;

/** The pipeline of a client connection: framing (startup phase first), then the login. */
public final class ClientChannelInitializer extends ChannelInitializer<Channel> {
    private final ProxyRuntime runtime;
    private final PoolMode mode;

    public ClientChannelInitializer(ProxyRuntime runtime, PoolMode mode) {
        this.runtime = runtime;
        this.mode = mode;
    }

    @Override
    protected void initChannel(Channel channel) {
        var limits = runtime.config().limits();
        FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, limits.maxFrameSize(), limits.maxStartupPacketSize());
        channel.pipeline().addLast("frames", decoder);
        channel.pipeline().addLast("login", new LoginHandler(runtime, decoder, mode));
    }
}
