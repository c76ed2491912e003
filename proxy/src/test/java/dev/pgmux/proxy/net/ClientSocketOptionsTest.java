package dev.pgmux.proxy.net;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.IoTransport;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.util.List;

/**
 * Client connections carry TCP_NODELAY (small messages go out at once, not after the peer's delayed ACK)
 * and SO_KEEPALIVE on every transport and port, whether pgmux sets them on each accepted socket (NIO) or
 * once on the listening socket, whose accepted sockets inherit them (io_uring, epoll).
 */
@Timeout(60)
class ClientSocketOptionsTest {

    @ParameterizedTest
    @EnumSource(value = IoTransport.class, names = {"IO_URING", "EPOLL", "NIO"})
    void acceptedClientSocketsHaveNoDelayAndKeepalive(IoTransport transport) throws Exception {
        Assumptions.assumeTrue(transport != IoTransport.IO_URING || IoUring.isAvailable(), "io_uring not available");
        Assumptions.assumeTrue(transport != IoTransport.EPOLL || Epoll.isAvailable(), "epoll not available");
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        PgmuxConfig config = base.withListen(base.listen().withTransport(transport));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection tx = Port.TRANSACTION.connect(pgmux, TestPostgres.SCRAM);
             Connection session = Port.SESSION.connect(pgmux, TestPostgres.SCRAM)) {
            assertThat(pgmux.server().transport().kind()).isEqualTo(transport);
            assertThat(text(tx, "SELECT 1")).isEqualTo("1");
            assertThat(text(session, "SELECT 1")).isEqualTo("1");
            List<ClientConnection> clients = List.copyOf(pgmux.server().runtime().clients().all());
            assertThat(clients).hasSize(2);
            for (ClientConnection client : clients) {
                Channel channel = client.channel();
                // Read back from the socket itself (getsockopt), not from what Netty was told.
                assertThat(channel.config().getOption(ChannelOption.TCP_NODELAY)).as("TCP_NODELAY of %s", client).isTrue();
                assertThat(channel.config().getOption(ChannelOption.SO_KEEPALIVE)).as("SO_KEEPALIVE of %s", client).isTrue();
            }
        }
    }
}
