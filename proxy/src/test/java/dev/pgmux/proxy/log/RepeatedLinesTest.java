package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.LogCapture.field;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The lines an upstream restart makes every server and every client write, through real connections whose
 * backends are terminated: the first of each kind, then one line with the count of the others.
 */
@Timeout(120)
class RepeatedLinesTest {
    private static final int N = 4;

    @Test
    void idleServersAndSessionsOfARestartedUpstreamAreOneLineAndACountEach() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(N))
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withRepeatInterval(Duration.ofSeconds(2)));
        TestRole idle = TestPostgres.PLAIN;
        TestRole sessions = TestPostgres.SCRAM;
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             LogCapture servers = LogCapture.of("dev.pgmux.proxy.server.ServerHandler");
             LogCapture clients = LogCapture.of("dev.pgmux.proxy.client.SessionModeHandler")) {
            List<Connection> open = new ArrayList<>();
            try {
                for (int i = 0; i < N; i++) { // N transactions at once: N servers, idle in the pool afterwards
                    Connection c = Port.TRANSACTION.connect(pgmux, idle);
                    c.setAutoCommit(false);
                    text(c, "SELECT 1");
                    open.add(c);
                }
                for (Connection c : open) {
                    c.commit();
                }
                pgmux.awaitIdle(idle, N, Wait.DEFAULT);
                TestPostgres.get().terminateBackends(idle.name());
                ILoggingEvent count = servers.await("the count of the idle servers' lines", field("repeats", N - 1));
                assertThat(count.getFormattedMessage()).matches("servers of .+ closed by the server while idle \\(57P01\\): "
                        + (N - 1) + " more like this in \\d+ s");
                assertThat(servers.events()).as(servers.text()).hasSize(2);
                assertThat(servers.events().get(0).getFormattedMessage()).contains("closed by the server while idle: 57P01");

                for (int i = 0; i < N; i++) {
                    Connection c = Port.SESSION.connect(pgmux, sessions);
                    text(c, "SELECT 1");
                    open.add(c);
                }
                TestPostgres.get().terminateBackends(sessions.name());
                for (Connection c : open.subList(N, 2 * N)) {
                    assertThat((Object) catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 1"))).isNotNull();
                }
                ILoggingEvent lost = clients.await("the count of the sessions' lines", field("repeats", N - 1));
                assertThat(lost.getFormattedMessage()).matches("upstream connection lost \\(pool acme/postgres/"
                        + sessions.name() + "\\): " + (N - 1) + " more like this in \\d+ s");
                assertThat(clients.events(e -> e.getFormattedMessage().contains("upstream connection lost")))
                        .as(clients.text()).hasSize(2);
            } finally {
                for (Connection c : open) {
                    c.close();
                }
            }
        }
    }
}
