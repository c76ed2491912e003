package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.PgmuxProcess;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ConnectException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * listen.reuse_port: a rolling restart on one host. A second pgmux process binds the ports the first one
 * listens on; the first is sent SIGTERM while clients keep connecting: no connection is refused, and once the
 * first has exited the second serves every client. Each client in flight at the hand-over may meet the first
 * process's drain (57P01, 57P03, or a connection reset while queued on its closing listener), at most once.
 */
@Timeout(240)
class ReusePortTest {
    private static final TestRole ROLE = TestPostgres.PLAIN;
    private static final Duration START = Duration.ofSeconds(60);
    private static final int LOOPS = 3;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Port.class)
    void aSecondProcessTakesOverWithoutARefusedConnection(Port port) throws Exception {
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(LOOPS + 2));
        PgmuxConfig first = base.withListen(base.listen().withTransport(PgmuxHarness.testTransport()).withReusePort(true));
        try (PgmuxProcess old = PgmuxProcess.start("pgmux-old", first, dir.resolve("old.yaml")).awaitListening(START)) {
            PgmuxConfig second = first.withListen(first.listen().withTransactionPort(old.transactionPort())
                    .withSessionPort(old.sessionPort()).withAdminPort(old.adminPort()));
            try (PgmuxProcess next = PgmuxProcess.start("pgmux-new", second, dir.resolve("new.yaml")).awaitListening(START)) {
                assertThat(next.port(port)).as("the new process's port").isEqualTo(old.port(port));
                Clients clients = new Clients(old.port(port));
                try {
                    Wait.until("clients served by the two processes", () -> clients.served.get() >= 50, clients::describe);
                    old.terminate();
                    assertThat(old.awaitExit(Duration.ofSeconds(30))).as("the old process's exit status:\n%s", old.output())
                            .isZero();
                    int servedWhenOldExited = clients.served.get();
                    Wait.until("clients served by the new process alone", () -> clients.served.get() >= servedWhenOldExited + 50,
                            clients::describe);
                } finally {
                    clients.stop();
                }
                assertThat(clients.refused).as("refused connections; %s", clients.describe()).isEmpty();
                assertThat(clients.failed.size()).as("clients that met the old process's drain: %s", clients.describe())
                        .isLessThanOrEqualTo(LOOPS);
                assertThat(clients.failed).as("how they met it").allSatisfy(failure ->
                        assertThat(failure).matches("(?s)(57P01|57P03|08001|08006) .*"));
                next.terminate();
                assertThat(next.awaitExit(Duration.ofSeconds(30))).as("the new process's exit status").isZero();
                assertThat(old.output() + next.output()).doesNotContain("LEAK:");
            }
        }
    }

    /** Clients that connect, run one statement and leave, one after another on each of {@value #LOOPS} threads. */
    private static final class Clients {
        final AtomicInteger served = new AtomicInteger();
        final ConcurrentLinkedQueue<String> refused = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Clients(int port) {
            for (int i = 0; i < LOOPS; i++) {
                Thread thread = new Thread(() -> loop(port), "reuse-port-client-" + i);
                thread.setDaemon(true);
                thread.start();
                threads.add(thread);
            }
        }

        private void loop(int port) {
            while (running.get()) {
                try (Connection c = PgmuxProcess.connect(port, ROLE, new Properties())) {
                    if ("1".equals(text(c, "SELECT 1"))) {
                        served.incrementAndGet();
                    }
                } catch (SQLException e) {
                    String failure = e.getSQLState() + " " + e.getMessage();
                    (refusedConnection(e) ? refused : failed).add(failure);
                }
            }
        }

        private static boolean refusedConnection(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ConnectException) {
                    return true;
                }
            }
            return false;
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
            }
        }

        String describe() {
            return served.get() + " served, refused " + refused + ", failed " + failed;
        }
    }
}
