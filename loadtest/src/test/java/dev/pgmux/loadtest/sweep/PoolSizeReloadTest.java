package dev.pgmux.loadtest.sweep;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How the sweep reads pgmux's admin port (the reload's answer, /pools and /metrics, as pgmux writes them) and
 * when it lets the next point start, against an admin port whose answers the test scripts.
 */
class PoolSizeReloadTest {
    private static final Duration LONG = Duration.ofSeconds(10);
    private static final PoolSizeReload.Liveness ALIVE = () -> { };

    @Test
    void theNewSizeCountsOnlyOncePgmuxShowsItAndTheServersBeyondItHaveClosed() throws IOException {
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(4, 4, 0), pool(2, 3, 0), pool(2, 2, 0)), List.of(clients(0)))) {
            PoolSizeReload.awaitInEffect(port.admin(), ALIVE, 2, LONG);
            assertThat(port.poolsGets).as("returned at the first answer with size=2 and open <= 2").hasSize(3);
        }
        try (FakeAdminPort port = new FakeAdminPort(List.of("other/db/app size=9 open=9 active=9 waiting=0\n" + pool(2, 1, 0)),
                List.of(clients(0)))) {
            PoolSizeReload.awaitInEffect(port.admin(), ALIVE, 2, LONG); // another tenant's pool is not the sweep's
        }
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(2, 3, 0)), List.of(clients(0)))) {
            assertThatThrownBy(() -> PoolSizeReload.awaitInEffect(port.admin(), ALIVE, 2, Duration.ofMillis(300)))
                    .hasMessage("pool_size 2 was not in effect after 300ms (want size=2 and open <= 2): "
                            + "loadtest/postgres/app size=2 open=3 active=0 waiting=0");
        }
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(4, 4, 0)), List.of(clients(0)))) {
            assertThatThrownBy(() -> PoolSizeReload.awaitInEffect(port.admin(), () -> {
                throw new IOException("pgmux (pid 1) exited with status 137");
            }, 2, LONG)).hasMessageContaining("exited");
        }
    }

    @Test
    void theNextPointWaitsUntilTheLastPointsClientsHaveLeft() throws IOException {
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(4, 4, 1), pool(4, 4, 0)), List.of(clients(2), clients(0)))) {
            long ended = System.nanoTime();
            PoolSizeReload.awaitQuiet(port.admin(), ALIVE, ended, LONG);
            assertThat(port.metricsGets).as("asked until no client was left").hasSize(2);
            assertThat(TimeUnit.NANOSECONDS.toMillis(port.metricsGets.get(0) - ended))
                    .as("the first count asked for once pgmux's cached client count cannot predate the point's end")
                    .isGreaterThanOrEqualTo(PoolSizeReload.CLIENT_COUNT_DELAY.toMillis());
        }
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(4, 4, 1)), List.of(clients(0)))) {
            assertThatThrownBy(() -> PoolSizeReload.awaitQuiet(port.admin(), ALIVE, 0, Duration.ofMillis(300)))
                    .hasMessage("the previous point's clients had not left pgmux after 300ms: 0 client connection(s); "
                            + "loadtest/postgres/app size=4 open=4 active=1 waiting=0");
        }
        try (FakeAdminPort port = new FakeAdminPort(List.of(pool(4, 4, 0)), List.of(clients(1)))) {
            assertThatThrownBy(() -> PoolSizeReload.awaitQuiet(port.admin(), ALIVE, 0, Duration.ofMillis(300)))
                    .hasMessage("the previous point's clients had not left pgmux after 300ms: 1 client connection(s)");
        }
    }

    private static String pool(int size, int open, int active) {
        return "loadtest/postgres/app size=" + size + " open=" + open + " active=" + active + " waiting=0\n";
    }

    private static String clients(int n) {
        return "# TYPE pgmux_client_connections gauge\n"
                + "pgmux_client_connections{mode=\"session\",state=\"active\"} 0.0\n"
                + "pgmux_client_connections{mode=\"transaction\",state=\"idle\"} " + n + ".0\n";
    }

    /** An admin port whose GETs of /pools and /metrics take the next scripted answer each; the last one repeats. */
    private static final class FakeAdminPort implements AutoCloseable {
        private final HttpServer server;
        final List<Long> poolsGets = new CopyOnWriteArrayList<>();
        final List<Long> metricsGets = new CopyOnWriteArrayList<>();

        FakeAdminPort(List<String> pools, List<String> metrics) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/pools", exchange -> answer(exchange, pools, poolsGets));
            server.createContext("/metrics", exchange -> answer(exchange, metrics, metricsGets));
            server.start();
        }

        PgmuxAdmin admin() {
            return new PgmuxAdmin(server.getAddress().getPort());
        }

        private static void answer(HttpExchange exchange, List<String> script, List<Long> gets) throws IOException {
            gets.add(System.nanoTime());
            byte[] body = script.get(Math.min(gets.size(), script.size()) - 1).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void aReloadCountsOnlyWhenItReportsExactlyThePoolSizeChange() throws IOException {
        assertThat(PoolSizeReload.check(new PgmuxAdmin.Answer(200, """
                configuration reloaded (1 change):
                  tenants[loadtest].pool_size: 2 -> 4
                """), 2, 4)).isEqualTo("tenants[loadtest].pool_size: 2 -> 4");

        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(200, """
                configuration reloaded (1 change):
                  tenants[loadtest].pool_size: 2 -> 8
                """), 2, 4)).hasMessageContaining("did not report exactly the change \"tenants[loadtest].pool_size: 2 -> 4\"")
                .hasMessageContaining("2 -> 8");
        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(200, """
                configuration reloaded (2 changes):
                  tenants[loadtest].pool_size: 2 -> 4
                  tenants[loadtest].max_clients: 1000 -> 10
                """), 2, 4)).hasMessageContaining("max_clients: 1000 -> 10");
        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(200, """
                configuration reloaded (1 change):
                  tenants[loadtest].pool_size: 2 -> 4
                kept until a restart:
                  listen.session_port: 6542 -> 7000 (needs a restart; the running value is kept)
                """), 2, 4)).hasMessageContaining("kept until a restart");
        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(200, "configuration reloaded: no changes\n"), 2, 4))
                .hasMessageContaining("pgmux answered: configuration reloaded: no changes");
        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(422, """
                reload refused, the running configuration stays: invalid configuration in x.yaml (1 problem):
                  tenants[0].pool_size: must be > 0, got 0
                """), 2, 4)).hasMessage("pgmux refused the reload from pool_size 2 to 4 (HTTP 422): reload refused, the running"
                + " configuration stays: invalid configuration in x.yaml (1 problem): | tenants[0].pool_size: must be > 0, got 0");
        assertThatThrownBy(() -> PoolSizeReload.check(new PgmuxAdmin.Answer(404, "not found: /reload\n"), 2, 4))
                .hasMessageContaining("--restart-per-point");
    }

    @Test
    void poolsAndClientCountsAreReadAsPgmuxWritesThem() throws IOException {
        List<PgmuxAdmin.PoolStatus> pools = PgmuxAdmin.PoolStatus.parse("""
                loadtest/postgres/app size=4 open=3 connecting=0 idle=1 active=2 waiting=5 cancelling=0 closing=1
                old/db/app retired size=2 open=0 connecting=0 idle=0 active=0 waiting=0 cancelling=0 closing=0
                """);
        assertThat(pools).hasSize(2);
        PgmuxAdmin.PoolStatus p = pools.get(0);
        assertThat(p.tenant()).isEqualTo("loadtest");
        assertThat(p.retired()).isFalse();
        assertThat(List.of(p.size(), p.open(), p.active(), p.waiting())).containsExactly(4, 3, 2, 5);
        assertThat(pools.get(1).retired()).isTrue();
        assertThat(pools.get(1).tenant()).isEqualTo("old");
        assertThat(PgmuxAdmin.PoolStatus.parse("")).isEmpty();
        assertThatThrownBy(() -> PgmuxAdmin.PoolStatus.parse("loadtest/postgres/app open=3\n")).hasMessageContaining("no size=");

        String metrics = """
                # HELP pgmux_client_connections Open client connections, by port and state
                # TYPE pgmux_client_connections gauge
                pgmux_client_connections{mode="session",state="active"} 2.0
                pgmux_client_connections{mode="session",state="idle"} 0.0
                pgmux_client_connections{mode="transaction",state="idle"} 3.0
                pgmux_client_connections_other 7.0
                """;
        assertThat(PgmuxAdmin.sum(metrics, PgmuxAdmin.CLIENT_CONNECTIONS)).isEqualTo(5);
        assertThatThrownBy(() -> PgmuxAdmin.sum("# nothing\n", PgmuxAdmin.CLIENT_CONNECTIONS))
                .hasMessageContaining("has no pgmux_client_connections");
    }
}
