package dev.pgmux.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgmux.config.IoTransport;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import io.netty.channel.uring.IoUring;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every transport pgmux can run on relays the same traffic: clients queueing for few servers (reads paused
 * and resumed), named prepared statements, a result larger than the socket buffers, session mode.
 */
@Timeout(120)
class TransportTest {
    @Test
    void autoPicksIoUringWhereTheKernelAllowsIt() {
        try (PgmuxHarness pgmux = PgmuxHarness.start(PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant()))) {
            IoTransport wanted = PgmuxHarness.testTransport();
            IoTransport expected = wanted != IoTransport.AUTO ? wanted
                    : IoUring.isAvailable() ? IoTransport.IO_URING : IoTransport.EPOLL;
            assertThat(pgmux.server().transport().kind()).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(value = IoTransport.class, names = {"IO_URING", "EPOLL", "NIO"})
    void everyTransportRelaysTheSameTraffic(IoTransport transport) throws Exception {
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(2));
        PgmuxConfig config = base.withListen(base.listen().withTransport(transport));
        if (transport == IoTransport.IO_URING && !IoUring.isAvailable()) {
            // Asked for by name where the kernel refuses it: pgmux says so instead of starting on another.
            assertThatThrownBy(() -> PgmuxHarness.start(config))
                    .hasMessageContaining("listen.transport io_uring is not available here");
            return;
        }
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            assertThat(pgmux.server().transport().kind()).isEqualTo(transport);

            HikariConfig hikari = new HikariConfig();
            hikari.setJdbcUrl(pgmux.transactionJdbcUrl("postgres"));
            hikari.setUsername(PgmuxHarness.tenantUser(TestPostgres.SCRAM));
            hikari.setPassword(PgmuxHarness.password(TestPostgres.SCRAM));
            hikari.addDataSourceProperty("sslmode", "disable");
            hikari.addDataSourceProperty("prepareThreshold", "1");
            hikari.setMaximumPoolSize(12);
            hikari.setMinimumIdle(12);
            ExecutorService threads = Executors.newFixedThreadPool(12);
            try (HikariDataSource clients = new HikariDataSource(hikari)) {
                List<Future<?>> workers = new ArrayList<>();
                for (int w = 0; w < 12; w++) {
                    int worker = w;
                    workers.add(threads.submit(() -> {
                        for (int n = 0; n < 25; n++) {
                            try (Connection c = clients.getConnection()) {
                                c.setAutoCommit(false);
                                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 1000 + ?::int")) {
                                    ps.setInt(1, worker);
                                    ps.setInt(2, n);
                                    try (ResultSet rs = ps.executeQuery()) {
                                        rs.next();
                                        assertThat(rs.getInt(1)).isEqualTo(worker * 1000 + n);
                                    }
                                }
                                c.commit();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : workers) {
                    f.get(90, TimeUnit.SECONDS);
                }
                // About 8 MB back in one result: more than the socket buffers hold, so writes wait for the client.
                try (Connection c = clients.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT i, repeat('x', 400) FROM generate_series(1, 20000) i")) {
                    long sum = 0;
                    int rows = 0;
                    while (rs.next()) {
                        sum += rs.getInt(1);
                        assertThat(rs.getString(2)).hasSize(400);
                        rows++;
                    }
                    assertThat(rows).isEqualTo(20000);
                    assertThat(sum).isEqualTo(20000L * 20001 / 2);
                }
            } finally {
                threads.shutdownNow();
            }
            try (Connection session = pgmux.connect(TestPostgres.SCRAM); Statement s = session.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(TestPostgres.SCRAM.name());
            }
        }
    }
}
