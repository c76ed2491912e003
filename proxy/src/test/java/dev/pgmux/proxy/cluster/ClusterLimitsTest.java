package dev.pgmux.proxy.cluster;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pgmux.config.ClusterConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TcpRelay;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A tenant's pool_size and max_clients hold for the whole cluster: three instances sharing one metadata database
 * never hold more servers for a pool than its pool_size together (counted in the upstream's pg_stat_activity),
 * nor admit more clients than max_clients; an instance that closes frees its slots at once, and one cut off from
 * the metadata database gives them up at its lease's deadline, after which the others may use them.
 */
@Timeout(180)
class ClusterLimitsTest {
    private static final int POOL_SIZE = 6;

    private MetadataDatabase database;
    private final List<PgmuxHarness> instances = new ArrayList<>();

    @BeforeEach
    void createDatabase() throws SQLException {
        database = MetadataDatabase.create();
    }

    @AfterEach
    void stop() throws SQLException {
        instances.forEach(PgmuxHarness::close);
        database.close();
    }

    private static TenantConfig tenant(int poolSize, int maxClients) {
        return PgmuxHarness.defaultTenant().withPoolSize(poolSize).withMaxClients(maxClients)
                .withCheckoutTimeout(Duration.ofSeconds(30));
    }

    private PgmuxHarness start(String id, TenantConfig tenant, String metadataUrl, Duration timeout) {
        PgmuxHarness pgmux = PgmuxHarness.start(PgmuxConfig.ephemeral(tenant)
                .withCluster(ClusterConfig.metadata(metadataUrl).withInstanceId(id).withInstanceTimeout(timeout)));
        instances.add(pgmux);
        return pgmux;
    }

    private List<PgmuxHarness> startThree(TenantConfig tenant) {
        return List.of(start("a", tenant, database.url(), Duration.ofSeconds(30)),
                start("b", tenant, database.url(), Duration.ofSeconds(30)),
                start("c", tenant, database.url(), Duration.ofSeconds(30)));
    }

    private static Connection login(PgmuxHarness pgmux, Port port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", "60");
        return port.connect(pgmux, TestPostgres.SCRAM, props);
    }

    /** The backends pgmux's servers hold in the upstream for the tenant's user (the sampler is a superuser). */
    private static int upstreamServers(Connection sampler) throws SQLException {
        try (Statement st = sampler.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + TestPostgres.SCRAM.name() + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void threeInstancesTogetherNeverHoldMoreServersThanThePoolSize(Port port) throws Exception {
        List<PgmuxHarness> three = startThree(tenant(POOL_SIZE, 100));
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] done = new int[three.size()];
        List<Thread> workers = new ArrayList<>();
        // 8 workers per instance, 24 in all for 6 slots: each logs in, runs a short transaction, logs out, again.
        for (int i = 0; i < 24; i++) {
            int instance = i % three.size();
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    while (running.get()) {
                        try (Connection c = login(three.get(instance), port); Statement st = c.createStatement()) {
                            st.execute("SELECT pg_sleep(0.02)");
                            synchronized (done) {
                                done[instance]++;
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        int max = 0;
        int samples = 0;
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        try (Connection sampler = TestPostgres.get().superuser()) {
            while (System.nanoTime() - end < 0 && failure.get() == null) {
                max = Math.max(max, upstreamServers(sampler));
                samples++;
            }
        } finally {
            running.set(false);
            for (Thread worker : workers) {
                worker.join();
            }
        }
        assertThat(failure.get()).as("every client served").isNull();
        assertThat(samples).isGreaterThan(50);
        assertThat(max).as("servers of the three instances together, at most").isLessThanOrEqualTo(POOL_SIZE);
        assertThat(max).as("the pool size is used, not just a third of it").isGreaterThanOrEqualTo(POOL_SIZE - 1);
        for (int i = 0; i < done.length; i++) {
            assertThat(done[i]).as("transactions through instance " + i).isGreaterThan(10);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void maxClientsHoldsAcrossInstancesAndAClientThatLeavesMakesRoomOnAnother(Port port) throws Exception {
        int maxClients = 5;
        List<PgmuxHarness> three = startThree(tenant(POOL_SIZE, maxClients));
        List<Connection> admitted = new ArrayList<>();
        List<SQLException> refused = new ArrayList<>();
        try {
            for (int i = 0; i < 9; i++) {
                try {
                    admitted.add(login(three.get(i % 3), port));
                } catch (SQLException e) {
                    refused.add(e);
                }
            }
            assertThat(admitted).hasSize(maxClients);
            assertThat(refused).hasSize(4).allSatisfy(e -> {
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getMessage()).contains("Max client connections reached");
            });
            // A client leaves one instance; a login on each of the others finds room within a lease sync.
            admitted.remove(0).close();
            Wait.until("a login through another instance", Duration.ofSeconds(5), () -> {
                try {
                    admitted.add(login(three.get(2), port));
                    return true;
                } catch (SQLException e) {
                    return false;
                }
            });
            assertThrows(SQLException.class, () -> login(three.get(1), port).close());
            for (Connection c : admitted) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
            }
        } finally {
            for (Connection c : admitted) {
                c.close();
            }
        }
    }

    @Test
    void anInstanceThatClosesFreesItsSlotsForTheOthersAtOnce() throws Exception {
        TenantConfig tenant = tenant(POOL_SIZE, 100);
        PgmuxHarness a = start("a", tenant, database.url(), Duration.ofSeconds(30));
        PgmuxHarness b = start("b", tenant, database.url(), Duration.ofSeconds(30));
        // Six sessions on a hold every server; b's session waits for one.
        List<Connection> onA = new ArrayList<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                onA.add(login(a, Port.SESSION));
            }
            Wait.until("a holds every server", () -> a.stats(TestPostgres.SCRAM).open() == POOL_SIZE);
            assertThat(a.adminResponse("/pools").body()).as("a's share in /pools")
                    .contains(TestPostgres.SCRAM.name() + " ").contains(" lease=" + POOL_SIZE);
            CountDownLatch served = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiting = Thread.ofPlatform().start(() -> {
                try (Connection c = login(b, Port.SESSION)) {
                    text(c, "SELECT 1");
                    served.countDown();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            Wait.until("b's client waits for a server", () -> b.pool(TestPostgres.SCRAM)
                    .map(pool -> pool.stats().waiting()).orElse(0) == 1);
            assertThat(served.getCount()).isEqualTo(1);
            a.close();
            onA.clear();
            waiting.join(Duration.ofSeconds(10));
            assertThat(failure.get()).isNull();
            assertThat(served.getCount()).as("b's client served once a closed").isZero();
        } finally {
            for (Connection c : onA) {
                c.close();
            }
        }
    }

    @Test
    void anInstanceCutOffFromTheMetadataDatabaseGivesUpItsSlotsAtItsDeadlineAndTheOthersTakeThem() throws Exception {
        Duration timeout = Duration.ofSeconds(3);
        TenantConfig tenant = tenant(POOL_SIZE, 100);
        TestPostgres pg = TestPostgres.get();
        try (TcpRelay relay = new TcpRelay(pg.host(), pg.port())) {
            PgmuxHarness cut = start("cut", tenant, database.url("127.0.0.1", relay.port()), timeout);
            PgmuxHarness other = start("other", tenant, database.url(), timeout);
            assertThat(cut.adminGet("/ready")).isEqualTo(200);
            try (Connection held = login(cut, Port.SESSION)) {
                assertThat(text(held, "SELECT 1")).isEqualTo("1");
                assertThat(Scrape.of(cut).sum("pgmux_leases_valid")).isEqualTo(1.0);
                relay.close(); // cut's connections to the metadata database drop, and no new one gets through
                long cutAt = System.nanoTime();
                Wait.until("cut gives its lease up", Duration.ofSeconds(10), () -> cut.adminGet("/ready") == 503);
                assertThat(Duration.ofNanos(System.nanoTime() - cutAt)).isLessThan(timeout.plusSeconds(1));
                assertThat(Scrape.of(cut).sum("pgmux_leases_valid")).isZero();
                Wait.until("cut's servers closed", () -> cut.stats(TestPostgres.SCRAM).open() == 0);
                assertThrows(SQLException.class, () -> text(held, "SELECT 1"), "its session lost its server");
                SQLException refused = assertThrows(SQLException.class, () -> login(cut, Port.TRANSACTION).close());
                assertThat(refused.getSQLState()).isEqualTo("57P03");
            }
            // The other instance may now use the whole pool size: six sessions at once, each with a server.
            List<Connection> sessions = new ArrayList<>();
            try (Connection sampler = TestPostgres.get().superuser()) {
                for (int i = 0; i < POOL_SIZE; i++) {
                    Connection c = login(other, Port.SESSION);
                    sessions.add(c);
                    assertThat(text(c, "SELECT 1")).isEqualTo("1");
                }
                assertThat(upstreamServers(sampler)).isEqualTo(POOL_SIZE);
            } finally {
                for (Connection c : sessions) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aShortOutageOfTheMetadataDatabaseChangesNothingAndALongOneIsRecoveredFrom() throws Exception {
        TenantConfig tenant = tenant(POOL_SIZE, 100);
        PgmuxHarness a = start("a", tenant, database.url(), Duration.ofSeconds(2));
        try (Connection c = login(a, Port.TRANSACTION); Connection meta = database.connect()) {
            assertThat(text(c, "SELECT 1")).isEqualTo("1");
            database.allowConnections(false);
            try (Statement st = meta.createStatement()) {
                st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database.name()
                        + "' AND pid <> pg_backend_pid()");
            }
            Wait.until("the lease expires", Duration.ofSeconds(10), () -> a.adminGet("/ready") == 503);
            database.allowConnections(true);
            Wait.until("a lease again", Duration.ofSeconds(15), () -> a.adminGet("/ready") == 200);
            assertThat(text(c, "SELECT 2")).as("the transaction-mode client gets a server again").isEqualTo("2");
            try (Connection fresh = login(a, Port.SESSION)) {
                assertThat(text(fresh, "SELECT 3")).isEqualTo("3");
            }
        }
    }

    @Test
    void fairSharesSplitWhatEachInstanceWantsThenWhatIsLeftEqually() {
        assertThat(SlotLeases.share(6, "b", 6, List.of(held("a", 6), held("c", 6)))).isEqualTo(2);
        assertThat(SlotLeases.share(6, "b", 6, List.of(held("a", 1)))).isEqualTo(5);
        assertThat(SlotLeases.share(6, "a", 1, List.of(held("b", 6)))).isEqualTo(1);
        assertThat(SlotLeases.share(6, "a", 0, List.of(held("b", 0), held("c", 0)))).isEqualTo(2);
        assertThat(SlotLeases.share(7, "a", 0, List.of(held("b", 0)))).isEqualTo(4);
        assertThat(SlotLeases.share(7, "b", 0, List.of(held("a", 0)))).isEqualTo(3);
        // However the instances want, the shares they compute add up to no more than the capacity.
        java.util.Random random = new java.util.Random(42);
        for (int round = 0; round < 1000; round++) {
            int capacity = 1 + random.nextInt(20);
            int n = 1 + random.nextInt(5);
            List<SlotLeases.Held> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                all.add(held("i" + i, random.nextInt(25)));
            }
            int sum = 0;
            for (SlotLeases.Held me : all) {
                List<SlotLeases.Held> others = new ArrayList<>(all);
                others.remove(me);
                int share = SlotLeases.share(capacity, me.instanceId(), me.wanted(), others);
                assertThat(share).isBetween(0, capacity);
                sum += share;
            }
            assertThat(sum).isEqualTo(capacity);
        }
    }

    private static SlotLeases.Held held(String id, int wanted) {
        return new SlotLeases.Held(id, 0, wanted);
    }
}
