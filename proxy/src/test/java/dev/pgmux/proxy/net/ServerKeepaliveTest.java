package dev.pgmux.proxy.net;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;

/**
 * Server connections carry the configured TCP keepalive, on whichever transport pgmux runs: the kernel
 * then drops a server that falls silent (its host or the network gone without a reset), and the clients
 * attached to it are told, instead of waiting for ever.
 */
@Timeout(60)
class ServerKeepaliveTest {

    @Test
    void serverConnectionsCarryTheConfiguredProbes() throws Exception {
        LimitsConfig.Keepalive keepalive = new LimitsConfig.Keepalive(Duration.ofSeconds(37), Duration.ofSeconds(7), 4);
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLimits(LimitsConfig.defaults().withServerKeepalive(keepalive));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection c = Port.SESSION.connect(pgmux, TestPostgres.SCRAM)) {
            assertThat(text(c, "SELECT 1")).isEqualTo("1");
            List<ServerConnection> servers = pgmux.pool(TestPostgres.SCRAM).orElseThrow().servers();
            assertThat(servers).isNotEmpty();
            for (ServerConnection server : servers) {
                Channel channel = server.channel();
                assertThat(channel.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
                switch (pgmux.server().transport()) {
                    case IO_URING -> {
                        assertThat(channel.config().getOption(IoUringChannelOption.TCP_KEEPIDLE)).isEqualTo(37);
                        assertThat(channel.config().getOption(IoUringChannelOption.TCP_KEEPINTVL)).isEqualTo(7);
                        assertThat(channel.config().getOption(IoUringChannelOption.TCP_KEEPCNT)).isEqualTo(4);
                    }
                    case EPOLL -> {
                        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(37);
                        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(7);
                        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(4);
                    }
                    case NIO -> {
                        assertThat(channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE))).isEqualTo(37);
                        assertThat(channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL))).isEqualTo(7);
                        assertThat(channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT))).isEqualTo(4);
                    }
                }
            }
        }
    }
}
