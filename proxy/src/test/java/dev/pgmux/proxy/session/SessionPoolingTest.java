package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.testing.Pgjdbc.backends;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Many clients over few servers: the pool bound, waiting for a server, and the limits' errors. */
@Timeout(120)
class SessionPoolingTest {
    private static final String USER = TestPostgres.SCRAM.name();
    private static final int POOL_SIZE = 5;
    /** How long a condition that should hold soon may take before a test gives up on it. */
    private static final Duration WAIT = Duration.ofSeconds(10);

    private ExecutorService threads;

    @BeforeEach
    void cleanUpstream() {
        TestPostgres.get().terminateBackends(USER);
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(20, TimeUnit.SECONDS)).as("client threads finished").isTrue();
    }

    @Test
    void threeTimesPoolSizeClientsShareThePoolSizeServers() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(tenant -> tenant.withPoolSize(POOL_SIZE))) {
            int clients = 3 * POOL_SIZE;
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger mostBackends = new AtomicInteger();
            AtomicInteger mostOpen = new AtomicInteger();
            Future<?> sampler = threads.submit(() -> {
                while (running.get()) {
                    mostBackends.accumulateAndGet((int) backends(USER, null), Math::max);
                    pgmux.pool(TestPostgres.SCRAM).ifPresent(p -> mostOpen.accumulateAndGet(p.stats().open(), Math::max));
                }
                return null;
            });

            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> sessions = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int n = i;
                sessions.add(threads.submit(() -> {
                    go.await();
                    try (Connection c = pgmux.connect(TestPostgres.SCRAM); Statement st = c.createStatement()) {
                        assertThat(text(c, "SELECT " + n)).isEqualTo(Integer.toString(n));
                        st.execute("SELECT pg_sleep(0.05)");
                        assertThat(text(c, "SELECT current_user")).isEqualTo(USER);
                        return serverPid(c);
                    }
                }));
            }
            go.countDown();
            List<Integer> pids = new ArrayList<>();
            for (Future<Integer> session : sessions) {
                pids.add(session.get(60, TimeUnit.SECONDS)); // rethrows any client's failure
            }
            running.set(false);
            sampler.get(10, TimeUnit.SECONDS);

            assertThat(pids).hasSize(clients);
            assertThat(pids.stream().distinct().count()).as("distinct servers used").isBetween(1L, (long) POOL_SIZE);
            assertThat(mostBackends.get()).as("most upstream backends of %s seen at once", USER)
                    .isBetween(1, POOL_SIZE);
            assertThat(mostOpen.get()).as("most servers the pool had open").isBetween(1, POOL_SIZE);
            pgmux.awaitIdle(TestPostgres.SCRAM, pgmux.stats(TestPostgres.SCRAM).open(), WAIT);
            assertThat(pgmux.stats(TestPostgres.SCRAM).waiting()).isZero();
        }
    }

    @Test
    void hikariPoolLargerThanThePgmuxPoolRunsEveryQuery() throws Exception {
        // In session mode a pooled JDBC connection holds its server: Hikari's connections beyond pool_size
        // wait in pgmux's checkout queue while the others serve every query.
        try (PgmuxHarness pgmux = PgmuxHarness.start(
                tenant -> tenant.withPoolSize(POOL_SIZE).withCheckoutTimeout(Duration.ofSeconds(60)))) {
            PGSimpleDataSource target = new PGSimpleDataSource();
            target.setURL(pgmux.sessionJdbcUrl("postgres"));
            target.setUser(PgmuxHarness.tenantUser(TestPostgres.SCRAM));
            target.setPassword(TestPostgres.SCRAM.password());
            target.setSslMode("disable");
            HikariConfig config = new HikariConfig();
            config.setDataSource(target);
            config.setMaximumPoolSize(10);
            config.setConnectionTimeout(30_000);
            config.setPoolName("session-pooling-test");
            HikariDataSource hikari = new HikariDataSource(config);
            try {
                int threadCount = 10;
                int perThread = 20;
                AtomicInteger succeeded = new AtomicInteger();
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < threadCount; t++) {
                    int thread = t;
                    workers.add(threads.submit(() -> {
                        for (int q = 0; q < perThread; q++) {
                            int value = thread * 1000 + q;
                            try (Connection c = hikari.getConnection();
                                 PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                                ps.setInt(1, value);
                                try (ResultSet rs = ps.executeQuery()) {
                                    assertThat(rs.next()).isTrue();
                                    assertThat(rs.getInt(1)).isEqualTo(value + 1);
                                }
                            }
                            succeeded.incrementAndGet();
                        }
                        return null;
                    }));
                }
                for (Future<?> worker : workers) {
                    worker.get(90, TimeUnit.SECONDS);
                }
                assertThat(succeeded.get()).isEqualTo(threadCount * perThread);
                ServerPool.Stats s = pgmux.stats(TestPostgres.SCRAM);
                assertThat(s.open()).as("servers open").isLessThanOrEqualTo(POOL_SIZE);
                assertThat(backends(USER, null)).as("upstream backends").isLessThanOrEqualTo(POOL_SIZE);
            } finally {
                // Closing pgmux first fails Hikari's connection attempts still queued for a server, so Hikari stops at once.
                pgmux.close();
                hikari.close();
            }
        }
    }

    @Test
    void checkoutTimeoutRefusesTheWaitingClientWithAClearError() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(
                tenant -> tenant.withPoolSize(1).withCheckoutTimeout(Duration.ofMillis(300)))) {
            int pid;
            try (Connection holder = pgmux.connect(TestPostgres.SCRAM)) {
                pid = serverPid(holder);
                long begin = System.nanoTime();
                PSQLException e = serverError(() -> pgmux.connect(TestPostgres.SCRAM).close());
                long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);

                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getServerErrorMessage().getMessage())
                        .contains("unable to check out connection from the pool after 300ms");
                assertThat(waitedMillis).as("ms the refused client waited").isGreaterThanOrEqualTo(300);
                assertThat(serverPid(holder)).as("the holder keeps its server").isEqualTo(pid);
            }
            pgmux.awaitIdle(TestPostgres.SCRAM, 1, WAIT);

            try (Connection next = pgmux.connect(TestPostgres.SCRAM)) {
                assertThat(serverPid(next)).isEqualTo(pid);
            }
            assertThat(pgmux.stats(TestPostgres.SCRAM).waiting()).isZero();
        }
    }

    @Test
    void waitingClientGetsTheServerAsSoonAsItIsReleased() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(
                tenant -> tenant.withPoolSize(1).withCheckoutTimeout(Duration.ofSeconds(20)))) {
            Connection holder = pgmux.connect(TestPostgres.SCRAM);
            int pid = serverPid(holder);
            Future<Integer> waiter = threads.submit(() -> {
                try (Connection c = pgmux.connect(TestPostgres.SCRAM)) {
                    return serverPid(c);
                }
            });
            try {
                Wait.until("a second client waiting for the server", WAIT,
                        () -> pgmux.stats(TestPostgres.SCRAM).waiting() == 1);
            } finally {
                holder.close();
            }
            assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo(pid);
        }
    }

    @Test
    void maxClientsRefusesClientsBeyondTheLimitUntilOneLeaves() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(tenant -> tenant.withMaxClients(2))) {
            for (int i = 0; i < 3; i++) {
                PSQLException e = serverError(() -> pgmux.connect(TestPostgres.SCRAM,
                        props("password", "not-the-password")).close());
                assertThat(e.getSQLState()).isEqualTo("28P01");
            }
            Wait.until("failed logins give their client slots back", WAIT, () -> pgmux.tenant().clients() == 0);

            Connection first = pgmux.connect(TestPostgres.SCRAM);
            try (Connection second = pgmux.connect(TestPostgres.MD5)) {
                PSQLException e = serverError(() -> pgmux.connect(TestPostgres.SCRAM).close());
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("Max client connections reached");
                assertThat(text(second, "SELECT current_user")).isEqualTo(TestPostgres.MD5.name());

                first.close();
                Wait.until("the tenant counting one client", WAIT, () -> pgmux.tenant().clients() == 1);
                try (Connection third = pgmux.connect(TestPostgres.SCRAM)) {
                    assertThat(text(third, "SELECT current_user")).isEqualTo(USER);
                }
            } finally {
                first.close();
            }
            Wait.until("the tenant counting no client", WAIT, () -> pgmux.tenant().clients() == 0);
        }
    }

    private static Properties props(String key, String value) {
        Properties props = new Properties();
        props.setProperty(key, value);
        return props;
    }
}
