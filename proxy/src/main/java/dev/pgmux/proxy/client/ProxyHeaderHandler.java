package dev.pgmux.proxy.client;

import dev.pgmux.config.Cidr;
import dev.pgmux.config.ProxyProtocolConfig;
import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First in a client's pipeline when {@code listen.proxy_protocol} is on: tells a PROXY protocol header (v1 or
 * v2) from a client's own first message, has Netty's decoder read the header, and makes its source address
 * the client's ({@link ClientConnection#proxiedFrom}) before the login sees any byte. The header comes before
 * everything, TLS included; a CancelRequest's connection carries one too.
 *
 * <p>Telling the two apart needs few bytes: every message a Postgres client opens with (startup packet,
 * SSLRequest, GSSENCRequest, CancelRequest) starts with its length, whose first byte is 0, while a v1 header
 * starts with {@code "PROXY "} and a v2 header with {@code "\r\n\r\n\0\r\nQUIT\n"}. So a client that sends an
 * 8-byte SSLRequest and waits is answered at once.
 *
 * <p>Refused, with an error to the connection and a log line (repeats held back): no header where one is
 * required, a header from a peer outside {@code listen.proxy_protocol_networks} (believing it would let that
 * peer claim any address), and a header Netty's decoder cannot read. A header that says {@code LOCAL} (a load
 * balancer's own health check) or names no IP address keeps the connection's own address.
 */
public final class ProxyHeaderHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHeaderHandler.class);

    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_PREFIX = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** What a listener's handlers share: the mode and the networks, parsed once. */
    public record Settings(ProxyProtocolConfig.Mode mode, List<Cidr> networks) {
        public static Settings of(ProxyProtocolConfig config) {
            return new Settings(config.mode(), config.networks().stream().map(Cidr::parse).toList());
        }

        boolean trusts(java.net.SocketAddress peer) {
            return networks.isEmpty() || (peer instanceof InetSocketAddress inet && inet.getAddress() != null
                    && networks.stream().anyMatch(network -> network.contains(inet.getAddress())));
        }
    }

    private final Settings settings;
    private final ClientConnection client;
    /** The bytes read while the first few could still start either a header or a client's message. */
    private ByteBuf pending;

    ProxyHeaderHandler(Settings settings, ClientConnection client) {
        this.settings = settings;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = pending == null ? bytes : ctx.alloc().buffer(pending.readableBytes() + bytes.readableBytes())
                .writeBytes(pending).writeBytes(bytes);
        if (pending != null) {
            pending.release();
            bytes.release();
            pending = null;
        }
        switch (classify(in)) {
            case UNDECIDED -> pending = in;
            case CLIENT_MESSAGE -> {
                if (settings.mode() == ProxyProtocolConfig.Mode.REQUIRED) {
                    in.release();
                    refuse(ctx, "no PROXY protocol header", "no PROXY protocol header",
                            "this port accepts connections through a load balancer only: the connection must start "
                                    + "with a PROXY protocol header");
                    return;
                }
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(in);
            }
            case HEADER -> {
                if (!settings.trusts(client.remoteAddress())) { // the peer's: no header has been read
                    in.release();
                    refuse(ctx, "untrusted peer", "a PROXY protocol header from a peer outside listen.proxy_protocol_networks",
                            "PROXY protocol header from an untrusted address");
                    return;
                }
                String name = ctx.name();
                ctx.pipeline().addAfter(name, "proxy-header-decoder", new HAProxyMessageDecoder())
                        .addAfter("proxy-header-decoder", "proxy-header", new Receiver());
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(in);
            }
        }
    }

    private enum Start { UNDECIDED, HEADER, CLIENT_MESSAGE }

    private static Start classify(ByteBuf in) {
        boolean v1 = startsLike(in, V1_PREFIX);
        boolean v2 = startsLike(in, V2_PREFIX);
        if (!v1 && !v2) {
            return Start.CLIENT_MESSAGE;
        }
        int needed = v1 ? V1_PREFIX.length : V2_PREFIX.length;
        return in.readableBytes() >= needed ? Start.HEADER : Start.UNDECIDED;
    }

    /** Whether the readable bytes agree with {@code prefix} as far as either goes. */
    private static boolean startsLike(ByteBuf in, byte[] prefix) {
        int n = Math.min(in.readableBytes(), prefix.length);
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != prefix[i]) {
                return false;
            }
        }
        return n > 0;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handlerRemoved(ctx);
        ctx.fireChannelInactive();
    }

    /** Ends a connection that is still open with an error to it, through the login's way of failing. */
    private void refuse(ChannelHandlerContext ctx, String kind, String why, String message) {
        logRefusal(kind, why);
        ctx.fireExceptionCaught(new ProtocolException(SqlState.PROTOCOL_VIOLATION, message));
    }

    private void logRefusal(String kind, String why) {
        client.runtime().logs().repeats().info(log, "proxy protocol: " + kind,
                "refused a connection from {}: {}", client.remoteAddress(), why);
    }

    /** After Netty's decoder: takes its one message, then leaves the pipeline to the client's own messages. */
    private final class Receiver extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ctx.fireChannelRead(msg);
                return;
            }
            try {
                if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                    InetSocketAddress source = address(header.sourceAddress(), header.sourcePort());
                    if (source != null) {
                        client.proxiedFrom(source);
                    }
                }
            } finally {
                header.release();
            }
            ctx.pipeline().remove(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException && cause.getCause() instanceof HAProxyProtocolException bad) {
                // The peer speaks the PROXY protocol, not Postgres's: as the protocol says, the connection just ends
                // (Netty's decoder has begun closing it already).
                logRefusal("unreadable header", "a PROXY protocol header that cannot be read (" + bad.getMessage() + ")");
                ctx.close();
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }

    /** A TCP4 or TCP6 source as the header writes it; null for anything else (a Unix socket's path). */
    private static InetSocketAddress address(String text, int port) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes == null) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), port); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
