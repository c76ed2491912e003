package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Postgres behind pgmux goes away, wholly (stopped) or one backend at a time (terminated): clients get
 * prompt, classified errors instead of hangs, pgmux keeps running, and it serves again once Postgres is back,
 * without a restart.
 */
class PostgresOutageTest {
    private static final int POOL_SIZE = 5;
    /** Far above what any refusal may take, so a fast error cannot be a checkout timeout in disguise. */
    private static final Duration CHECKOUT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration FAST = Duration.ofSeconds(5);

    /** Fresh for each test: the pools' counts start from nothing, whatever the outage before did. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(
            t -> t.withPoolSize(POOL_SIZE).withCheckoutTimeout(CHECKOUT_TIMEOUT));

    private final List<Connection> opened = new ArrayList<>();

    @AfterEach
    void closeClients() {
        for (Connection c : opened) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken by the test
            }
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void stoppedPostgresGivesFastErrorsAndPgmuxRecoversWhenItIsBack() throws Exception {
        TestPostgres pg = TestPostgres.get();
        assertThat(pg.managed()).as("this test stops and restarts the test Postgres: it must be the private cluster").isTrue();

        Connection scram = open(TestPostgres.SCRAM);
        Connection md5 = open(TestPostgres.MD5);
        assertThat(text(scram, "SELECT 1")).isEqualTo("1");
        assertThat(text(md5, "SELECT 2")).isEqualTo("2");
        try (Connection returned = pgmux.get().connect(TestPostgres.SCRAM)) { // leaves an idle server in the pool
            assertThat(text(returned, "SELECT 3")).isEqualTo("3");
        }
        Connection busy = open(TestPostgres.PLAIN);
        int busyPid = Integer.parseInt(text(busy, "SELECT pg_backend_pid()"));
        CompletableFuture<String> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return text(busy, "SELECT pg_sleep(60)::text");
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, runnable -> Thread.ofVirtual().start(runnable));
        Wait.until("the long query runs on Postgres", Duration.ofSeconds(10), () -> superuserCount(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'active'", busyPid) == 1);

        try {
            pg.stop();

            Throwable broken = catchThrowableOfType(ExecutionException.class,
                    () -> inFlight.get(FAST.toMillis(), TimeUnit.MILLISECONDS));
            assertThat(broken).as("a query running when Postgres stopped fails within %s, not a hang", FAST).isNotNull();
            assertThat(broken.getCause()).isInstanceOf(SQLException.class);
            assertThat(((SQLException) broken.getCause()).getSQLState()).as("SQLSTATE of %s", broken.getCause())
                    .satisfiesAnyOf(s -> assertThat(s).startsWith("08"), s -> assertThat(s).isEqualTo("57P01"));

            for (Connection existing : List.of(scram, md5)) {
                long t0 = System.nanoTime();
                SQLException e = catchThrowableOfType(SQLException.class, () -> text(existing, "SELECT 1"));
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertThat((Throwable) e).as("the next query of a client connected before the outage fails").isNotNull();
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e)
                        .satisfiesAnyOf(s -> assertThat(s).startsWith("08"), s -> assertThat(s).isEqualTo("57P01"));
                assertThat(took).as("failed promptly, not after a hang").isLessThan(FAST);
            }

            for (TestRole role : List.of(TestPostgres.SCRAM, TestPostgres.MD5, TestPostgres.SCRAM)) {
                long t0 = System.nanoTime();
                SQLException e = catchThrowableOfType(SQLException.class, () -> open(role));
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertThat((Throwable) e).as("a login of %s during the outage fails", role).isNotNull();
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e).startsWith("08");
                assertThat(e.getMessage()).as("message of the login failure").containsIgnoringCase("unreachable");
                assertThat(took).as("refused well before the checkout timeout of %s", CHECKOUT_TIMEOUT).isLessThan(FAST);
            }

            assertThat(pgmux.get().adminGet("/health")).as("admin /health during the outage").isEqualTo(200);
        } finally {
            pg.start();
        }

        // Back up: new logins work again, on the same pgmux.
        Connection[] again = new Connection[1];
        Wait.until("a login through pgmux works again after Postgres restarted", Duration.ofSeconds(15), () -> {
            Connection c = pgmux.get().connect(TestPostgres.SCRAM);
            try {
                boolean works = "1".equals(text(c, "SELECT 1"));
                if (works) {
                    opened.add(c);
                    again[0] = c;
                } else {
                    c.close();
                }
                return works;
            } catch (SQLException e) {
                c.close();
                throw e;
            }
        });
        assertThat(text(again[0], "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
        try (Connection other = pgmux.get().connect(TestPostgres.MD5)) {
            assertThat(text(other, "SELECT current_user")).isEqualTo(TestPostgres.MD5.name());
        }
        assertThat(pgmux.get().adminGet("/health")).isEqualTo(200);
        holdWholePool(TestPostgres.SCRAM, 1); // the one from the retry loop is still open
        holdWholePool(TestPostgres.MD5, 0);
        for (ServerPool pool : pgmux.get().server().runtime().pools().all()) {
            ServerPool.Stats stats = pool.stats();
            assertThat(stats.open()).as("pool %s: %s", pool.key(), stats).isBetween(0, POOL_SIZE);
            assertThat(stats.active()).as("pool %s: %s", pool.key(), stats).isBetween(0, POOL_SIZE);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void terminatedBackendFailsOnlyItsOwnClient() throws Exception {
        TestPostgres pg = TestPostgres.get();
        Connection victim = open(TestPostgres.SCRAM);
        Connection bystander = open(TestPostgres.MD5);
        int victimPid = Integer.parseInt(text(victim, "SELECT pg_backend_pid()"));
        int bystanderPid = Integer.parseInt(text(bystander, "SELECT pg_backend_pid()"));
        try (Connection returned = pgmux.get().connect(TestPostgres.SCRAM)) { // an idle server of the same user, killed too
            assertThat(text(returned, "SELECT 1")).isEqualTo("1");
        }
        Wait.until("the returned server is idle in the pool", Duration.ofSeconds(5),
                () -> pgmux.pool(TestPostgres.SCRAM).map(p -> p.stats().idle() >= 1).orElse(false),
                pgmux.get()::describePools);

        pg.terminateBackends(TestPostgres.SCRAM.name());

        long t0 = System.nanoTime();
        SQLException e = catchThrowableOfType(SQLException.class, () -> text(victim, "SELECT 1"));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat((Throwable) e).as("the client whose backend was terminated gets an error").isNotNull();
        assertThat(e.getSQLState()).as("SQLSTATE of %s", e)
                .satisfiesAnyOf(s -> assertThat(s).isEqualTo("57P01"), s -> assertThat(s).startsWith("08"));
        assertThat(took).isLessThan(FAST);

        assertThat(text(bystander, "SELECT 'unaffected'")).isEqualTo("unaffected");
        assertThat(Integer.parseInt(text(bystander, "SELECT pg_backend_pid()")))
                .as("the other user's client still has its own backend").isEqualTo(bystanderPid);

        try (Connection next = pgmux.get().connect(TestPostgres.SCRAM)) {
            assertThat(text(next, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
            assertThat(Integer.parseInt(text(next, "SELECT pg_backend_pid()"))).isNotEqualTo(victimPid);
        }
        holdWholePool(TestPostgres.SCRAM, 0);
        ServerPool.Stats stats = pgmux.pool(TestPostgres.SCRAM).map(ServerPool::stats).orElse(null);
        assertThat(stats).isNotNull();
        assertThat(stats.open()).as("%s", stats).isBetween(0, POOL_SIZE);
        Wait.until("no server of " + TestPostgres.SCRAM.name() + " counted active once its clients left",
                Duration.ofSeconds(5), () -> pgmux.pool(TestPostgres.SCRAM).map(p -> p.stats().active() == 0).orElse(false),
                pgmux.get()::describePools);
    }

    /** How a fake upstream treats the connections pgmux opens to it. */
    enum Upstream {
        /** Accepts and never answers, like a hung or black-holed server: bounded by connect_timeout. */
        SILENT,
        /** Accepts and closes at once, like a server that crashed or is not Postgres. */
        CLOSES,
        /** Answers with something that is not the Postgres protocol. */
        GARBAGE
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void brokenUpstreamFailsLoginsWithinTheConnectTimeout(Upstream behaviour) throws Exception {
        Duration connectTimeout = Duration.ofSeconds(1);
        try (FakeUpstream fake = new FakeUpstream(behaviour);
             PgmuxHarness broken = PgmuxHarness.start(t -> t
                     .withUpstream(UpstreamConfig.of("127.0.0.1", fake.port()))
                     .withPoolSize(POOL_SIZE)
                     .withConnectTimeout(connectTimeout)
                     .withCheckoutTimeout(CHECKOUT_TIMEOUT))) {
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                SQLException e = catchThrowableOfType(SQLException.class, () -> broken.connect(TestPostgres.SCRAM));
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertThat((Throwable) e).as("login through pgmux to a broken upstream fails").isNotNull();
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e).startsWith("08");
                assertThat(took).as("failed within the connect timeout of %s (plus slack), not the checkout timeout", connectTimeout)
                        .isLessThan(connectTimeout.plus(FAST));
            }
            assertThat(fake.accepted()).as("pgmux did try the upstream").isPositive();
            assertThat(broken.adminGet("/health")).isEqualTo(200);
            // No slot stays taken by the failed attempts: the pool, whose logins all failed, is not even kept.
            Wait.until("the pool of the failed attempts removed", Duration.ofSeconds(5),
                    () -> broken.pool(TestPostgres.SCRAM).isEmpty(), broken::describePools);
        }
    }

    /** A TCP server on 127.0.0.1 that plays a broken Postgres. */
    private static final class FakeUpstream implements AutoCloseable {
        private final ServerSocket listener;
        private final List<Socket> held = new CopyOnWriteArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();
        private final Thread acceptor;

        FakeUpstream(Upstream behaviour) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            acceptor = Thread.ofVirtual().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket s = listener.accept();
                        accepted.incrementAndGet();
                        switch (behaviour) {
                            case SILENT -> held.add(s);
                            case CLOSES -> s.close();
                            case GARBAGE -> {
                                held.add(s);
                                s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                        .getBytes(StandardCharsets.US_ASCII));
                                s.getOutputStream().flush();
                            }
                        }
                    } catch (IOException e) {
                        // listener closed, or a peer already gone
                    }
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws Exception {
            listener.close();
            for (Socket s : held) {
                s.close();
            }
            acceptor.join(Duration.ofSeconds(5));
        }
    }

    /**
     * Opens clients of {@code role} until pool_size of them are connected at once ({@code already} are open),
     * each promptly: a pool that lost count of its servers during the fault would make one wait for the
     * checkout timeout. Closes the new ones again.
     */
    private void holdWholePool(TestRole role, int already) throws SQLException {
        List<Connection> held = new ArrayList<>();
        try {
            for (int i = already; i < POOL_SIZE; i++) {
                long t0 = System.nanoTime();
                Connection c = pgmux.get().connect(role);
                held.add(c);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("login %d of %d for %s", i + 1, POOL_SIZE, role)
                        .isLessThan(FAST);
                assertThat(text(c, "SELECT current_user")).isEqualTo(role.name());
            }
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
    }

    private Connection open(TestRole role) throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", "20"); // a hang turns into an error the test can report
        props.setProperty("connectTimeout", "10");
        Connection c = pgmux.get().connect(role, props);
        opened.add(c);
        return c;
    }
}
