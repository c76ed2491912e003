package dev.pgmux.proxy.auth;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.util.PSQLException;

/**
 * auth_query against an upstream that accepts connections and never answers (a host that hangs): the login
 * ends with a clear error within the connect timeout, never a wait that does not end, on both ports; a client
 * that leaves while its lookup runs gives its max_clients slot back.
 */
@Timeout(60)
class AuthQueryFaultsTest {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

    /** Accepts every connection and holds it open without a byte, until closed. */
    private static final class SilentUpstream implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> accepted = new ArrayList<>();
        final Thread acceptor = Thread.ofVirtual().start(() -> {
            try {
                for (;;) {
                    Socket s = listener.accept();
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (IOException closed) {
                // the test is over
            }
        });

        SilentUpstream() throws IOException {
        }

        int accepted() {
            synchronized (accepted) {
                return accepted.size();
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    private static PgmuxHarness start(SilentUpstream upstream) {
        TenantConfig tenant = TenantConfig.of(PgmuxHarness.TENANT,
                        UpstreamConfig.of("127.0.0.1", upstream.listener.getLocalPort()), List.of())
                .withConnectTimeout(CONNECT_TIMEOUT)
                .withAuthQuery(AuthQueryConfig.of(new UserConfig("pgbouncer", "auth-pass"), AuthQueryConfig.SUPABASE_QUERY));
        return PgmuxHarness.start(PgmuxConfig.ephemeral(tenant));
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aLookupOnAnUpstreamThatNeverAnswersEndsTheLoginWithinTheConnectTimeout(Port port) throws Exception {
        try (SilentUpstream upstream = new SilentUpstream(); PgmuxHarness pgmux = start(upstream)) {
            Properties props = new Properties();
            props.setProperty("user", "app." + PgmuxHarness.TENANT);
            props.setProperty("password", "app-pass");
            props.setProperty("sslmode", "disable");
            props.setProperty("socketTimeout", "30");
            long started = System.nanoTime();
            PSQLException e = serverError(() -> java.sql.DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), props).close());
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(e.getSQLState()).isEqualTo("08006");
            assertThat(e.getServerErrorMessage().getMessage())
                    .startsWith("authentication lookup failed for tenant " + PgmuxHarness.TENANT + ": ")
                    .contains("timed out");
            assertThat(took).as("time to the error").isLessThan(CONNECT_TIMEOUT.multipliedBy(5));
            assertThat(upstream.accepted()).as("the lookup reached the silent upstream").isPositive();
            Wait.until("the refused client's slot is given back", Duration.ofSeconds(5), () -> pgmux.tenant().clients() == 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientThatLeavesDuringItsLookupGivesItsSlotBack(Port port) throws Exception {
        try (SilentUpstream upstream = new SilentUpstream(); PgmuxHarness pgmux = start(upstream)) {
            WireClient raw = WireClient.connect(port.of(pgmux));
            raw.send(Wire.startupPacket("app." + PgmuxHarness.TENANT, "postgres"));
            Wait.until("the lookup has reached the upstream", Duration.ofSeconds(5), () -> upstream.accepted() > 0);
            assertThat(pgmux.tenant().clients()).as("the waiting client holds a slot").isEqualTo(1);

            raw.closeWithoutTerminate();

            Wait.until("the departed client's slot is given back", Duration.ofSeconds(5), () -> pgmux.tenant().clients() == 0);
        }
    }
}
