package dev.pgmux.proxy.net;

import java.net.StandardSocketOptions;

import dev.pgmux.config.IoTransport;
import dev.pgmux.config.LimitsConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import jdk.net.ExtendedSocketOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network transport of pgmux's event loops. io_uring by default: relaying small messages, it spends
 * about a third less CPU per transaction than epoll, most of it in the kernel (docs/benchmarks.md). Where
 * the kernel or a container's seccomp profile refuses io_uring, epoll; NIO off Linux.
 */
public enum Transport {
    IO_URING(IoTransport.IO_URING), EPOLL(IoTransport.EPOLL), NIO(IoTransport.NIO);

    private static final Logger log = LoggerFactory.getLogger(Transport.class);
    /** Linux TCP states (tcp_states.h): reset or timed out, and closed by the peer (FIN received). */
    private static final int TCP_CLOSE = 7;
    private static final int TCP_CLOSE_WAIT = 8;
    /**
     * TCP_NODELAY and SO_KEEPALIVE by their Linux numbers (IPPROTO_TCP 6 / TCP_NODELAY 1, SOL_SOCKET 1 /
     * SO_KEEPALIVE 9), for a listening socket, whose Netty configuration knows neither by name.
     */
    private static final IntegerUnixChannelOption LISTENER_TCP_NODELAY =
            new IntegerUnixChannelOption("PGMUX_LISTENER_TCP_NODELAY", 6, 1);
    private static final IntegerUnixChannelOption LISTENER_SO_KEEPALIVE =
            new IntegerUnixChannelOption("PGMUX_LISTENER_SO_KEEPALIVE", 1, 9);

    private final IoTransport kind;

    Transport(IoTransport kind) {
        this.kind = kind;
    }

    /** The configured transport; one asked for by name must be available, {@code auto} takes the best that is. */
    public static Transport of(IoTransport wanted) {
        return switch (wanted) {
            case AUTO -> {
                if (IoUring.isAvailable()) {
                    yield IO_URING;
                }
                Transport fallback = Epoll.isAvailable() ? EPOLL : NIO;
                log.info("io_uring is not available ({}{}); using {}", IoUring.unavailabilityCause(),
                        refusedHint(IoUring.unavailabilityCause()), fallback.configName());
                yield fallback;
            }
            case IO_URING -> require(IO_URING, IoUring.unavailabilityCause());
            case EPOLL -> require(EPOLL, Epoll.unavailabilityCause());
            case NIO -> NIO;
        };
    }

    private static Transport require(Transport transport, Throwable unavailable) {
        if (unavailable != null) {
            throw new IllegalStateException("listen.transport " + transport.configName() + " is not available here: "
                    + unavailable.getMessage() + refusedHint(unavailable) + "; use listen.transport auto to fall back",
                    unavailable);
        }
        return transport;
    }

    /**
     * Why a kernel that has io_uring refuses it with EPERM: a seccomp profile (Docker's default one since 25.0,
     * containerd's, Podman's) or the {@code kernel.io_uring_disabled} sysctl. Empty for any other cause.
     */
    static String refusedHint(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && message.contains("Operation not permitted")) {
                return ": a seccomp profile (a container's) or the kernel.io_uring_disabled sysctl forbids io_uring";
            }
        }
        return "";
    }

    /** The {@code listen.transport} value that names this transport. */
    public IoTransport kind() {
        return kind;
    }

    public String configName() {
        return kind.configName();
    }

    /** Whether {@link #peerGone} can tell anything about this channel: io_uring and epoll sockets, not NIO. */
    public static boolean knowsPeerState(Channel channel) {
        return channel instanceof IoUringSocketChannel || channel instanceof EpollSocketChannel;
    }

    /**
     * Whether the kernel already knows the peer of this connection is gone (reset, timed out or closed),
     * whatever the channel has noticed so far; false where it cannot tell ({@link #knowsPeerState}).
     */
    public static boolean peerGone(Channel channel) {
        int state;
        try {
            state = switch (channel) {
                case IoUringSocketChannel uring -> uring.tcpInfo().state();
                case EpollSocketChannel epoll -> epoll.tcpInfo().state();
                default -> -1;
            };
        } catch (ChannelException e) {
            return false; // closing already: the channel reports that itself
        }
        return state == TCP_CLOSE || state == TCP_CLOSE_WAIT;
    }

    /**
     * Sets TCP keepalive probes on the connections {@code bootstrap} opens: SO_KEEPALIVE, and the probes'
     * timing when it is configured (else the operating system's). Each transport names these options its way.
     */
    public void keepalive(Bootstrap bootstrap, LimitsConfig.Keepalive keepalive) {
        bootstrap.option(ChannelOption.SO_KEEPALIVE, true);
        if (!keepalive.configured()) {
            return;
        }
        int idle = (int) keepalive.idle().toSeconds();
        int interval = (int) keepalive.interval().toSeconds();
        switch (this) {
            case IO_URING -> bootstrap.option(IoUringChannelOption.TCP_KEEPIDLE, idle)
                    .option(IoUringChannelOption.TCP_KEEPINTVL, interval)
                    .option(IoUringChannelOption.TCP_KEEPCNT, keepalive.count());
            case EPOLL -> bootstrap.option(EpollChannelOption.TCP_KEEPIDLE, idle)
                    .option(EpollChannelOption.TCP_KEEPINTVL, interval)
                    .option(EpollChannelOption.TCP_KEEPCNT, keepalive.count());
            case NIO -> bootstrap.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idle)
                    .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), interval)
                    .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), keepalive.count());
        }
    }

    /**
     * TCP_NODELAY and SO_KEEPALIVE on every client connection {@code bootstrap}'s listener accepts. On Linux
     * (io_uring, epoll) they are set once, on the listening socket: the kernel copies them to each socket it
     * accepts, which saves a login the SO_KEEPALIVE {@code setsockopt} and Netty's per-connection option
     * handling (Netty's socket channels turn TCP_NODELAY on by themselves as well). On NIO (off Linux, where that
     * inheritance is not a given) each accepted socket gets them.
     */
    public void clientSocketOptions(ServerBootstrap bootstrap) {
        switch (this) {
            case IO_URING, EPOLL -> bootstrap.option(LISTENER_TCP_NODELAY, 1).option(LISTENER_SO_KEEPALIVE, 1);
            case NIO -> bootstrap.childOption(ChannelOption.TCP_NODELAY, true).childOption(ChannelOption.SO_KEEPALIVE, true);
        }
    }

    /**
     * SO_REUSEPORT on the listener {@code bootstrap} binds: several processes may then listen on the same port,
     * and the kernel spreads new connections over them (a new pgmux starts before the old one drains), on every
     * transport.
     */
    public void reusePort(ServerBootstrap bootstrap) {
        switch (this) {
            case IO_URING -> bootstrap.option(IoUringChannelOption.SO_REUSEPORT, true);
            case EPOLL -> bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
            // The JDK's own socket option: Linux, the BSDs and macOS have it; elsewhere the bind fails, naming it.
            case NIO -> bootstrap.option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
        }
    }

    public EventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory handlers = switch (this) {
            case IO_URING -> SteadyTimeoutIoHandler.wrap(IoUringIoHandler.newFactory()); // one kernel timeout per deadline
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), handlers);
    }

    public Class<? extends ServerSocketChannel> serverChannel() {
        return switch (this) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> channel() {
        return switch (this) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }
}
