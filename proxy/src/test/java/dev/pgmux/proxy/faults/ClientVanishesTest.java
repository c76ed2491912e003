package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.faults.FaultSupport.awaitCondition;
import static dev.pgmux.proxy.faults.FaultSupport.backendAlive;
import static dev.pgmux.proxy.faults.FaultSupport.idleInTransaction;
import static dev.pgmux.proxy.faults.FaultSupport.queryString;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.faults.RawPgClient.Message;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client that holds a lock inside a transaction and then vanishes (its socket closed or reset) must not
 * leave that transaction, or its server, behind: the lock is released within seconds, no backend of the user
 * stays {@code idle in transaction}, and the pool's counters come back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientVanishesTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final int POOL_SIZE = 5;
    private static final String TABLE = "faults_vanish_lock";

    private static PgmuxHarness pgmux;

    /** How the lock holder disappears. */
    enum Vanish {
        /** An orderly close (FIN) without Terminate. */
        CLOSE,
        /** A TCP reset, as from a crashed client. */
        RESET,
        /** Half a message written, then a TCP reset. */
        RESET_MID_MESSAGE
    }

    @BeforeAll
    static void start() throws SQLException {
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id int)");
        }
        pgmux = PgmuxHarness.start(t -> t.withPoolSize(POOL_SIZE));
    }

    @AfterAll
    static void stop() throws SQLException {
        if (pgmux != null) {
            pgmux.close();
        }
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + TABLE);
        }
    }

    @ParameterizedTest
    @EnumSource(Vanish.class)
    void lockHolderThatVanishesReleasesItsLockAndServer(Vanish how) throws Exception {
        int pid;
        try (RawPgClient holder = RawPgClient.connect(pgmux.sessionPort());
             Connection other = pgmux.connect(ROLE)) {
            holder.login(PgmuxHarness.tenantUser(ROLE), ROLE.password());
            pid = Integer.parseInt(holder.simpleQueryValue("SELECT pg_backend_pid()"));
            requireOk(holder.simpleQuery("BEGIN"));
            requireOk(holder.simpleQuery("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE"));

            // While the holder is there, the lock is taken and its backend sits in the transaction.
            other.setAutoCommit(false);
            SQLException busy = catchThrowableOfType(SQLException.class, () -> lockNowait(other));
            assertThat((Throwable) busy).as("the lock is held while its holder is connected").isNotNull();
            assertThat(busy.getSQLState()).isEqualTo("55P03");
            other.rollback();
            assertThat(idleInTransaction(ROLE.name())).as("the holder's backend is idle in transaction").isEqualTo(1);

            switch (how) {
                case CLOSE -> holder.close();
                case RESET -> holder.abort();
                case RESET_MID_MESSAGE -> {
                    holder.write(Arrays.copyOf(RawPgClient.query("COMMIT"), 7));
                    holder.abort();
                }
            }

            awaitCondition("another client takes the lock the vanished client held", Duration.ofSeconds(10), () -> {
                try {
                    lockNowait(other);
                    return true;
                } finally {
                    other.rollback();
                }
            });
            other.setAutoCommit(true);
            assertThat(queryString(other, "SELECT 'still fine'")).isEqualTo("still fine");
        }

        awaitCondition("the vanished client's backend " + pid + " is gone", Duration.ofSeconds(10), () -> !backendAlive(pid));
        awaitCondition("no backend of " + ROLE.name() + " idle in transaction", Duration.ofSeconds(10),
                () -> idleInTransaction(ROLE.name()) == 0);
        awaitCondition("no server counted active once every client left", Duration.ofSeconds(10), () -> {
            ServerPool.Stats s = FaultSupport.poolStats(pgmux, ROLE.name());
            return s != null && s.active() == 0 && s.connecting() == 0 && s.waiting() == 0;
        }, () -> FaultSupport.allPools(pgmux));
        ServerPool.Stats stats = FaultSupport.poolStats(pgmux, ROLE.name());
        assertThat(stats.open()).as("open servers after every client left: %s", stats).isBetween(0, POOL_SIZE);
        assertThat(stats.idle()).as("every open server is idle: %s", stats).isEqualTo(stats.open());

        // The pool still hands out clean servers, all pool_size of them at once (no slot leaked).
        List<Connection> all = new ArrayList<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                long t0 = System.nanoTime();
                Connection c = pgmux.connect(ROLE);
                all.add(c);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("login %d of %d", i + 1, POOL_SIZE)
                        .isLessThan(Duration.ofSeconds(5));
                assertThat(FaultSupport.idleOutsideTransaction(c)).as("a server of the pool is outside any transaction").isTrue();
            }
            Connection next = all.getFirst();
            next.setAutoCommit(false);
            lockNowait(next);
            next.rollback();
        } finally {
            for (Connection c : all) {
                c.close();
            }
        }
    }

    /**
     * With one server per pool and a second client queued for it, the lock holder vanishes: the queued client
     * must get a server (a new one, as the old one was mid-transaction) promptly, not at the checkout timeout.
     */
    @ParameterizedTest
    @EnumSource(value = Vanish.class, names = {"CLOSE", "RESET"})
    void queuedClientGetsAServerWhenTheHolderVanishes(Vanish how) throws Exception {
        Duration checkoutTimeout = Duration.ofSeconds(30);
        // Closed in reverse order: pgmux goes before the executor, so a connect still pending cannot hold it up.
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             PgmuxHarness single = PgmuxHarness.start(t -> t.withPoolSize(1).withCheckoutTimeout(checkoutTimeout));
             RawPgClient holder = RawPgClient.connect(single.sessionPort())) {
            holder.login(PgmuxHarness.tenantUser(ROLE), ROLE.password());
            requireOk(holder.simpleQuery("BEGIN"));
            requireOk(holder.simpleQuery("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE"));

            Future<Connection> queued = threads.submit(() -> single.connect(ROLE));
            try {
                awaitCondition("a second client waits for the only server", Duration.ofSeconds(10), () -> {
                    ServerPool.Stats s = FaultSupport.poolStats(single, ROLE.name());
                    return s != null && s.waiting() == 1;
                }, () -> FaultSupport.allPools(single));

                long t0 = System.nanoTime();
                if (how == Vanish.CLOSE) {
                    holder.close();
                } else {
                    holder.abort();
                }
                try (Connection c = queued.get(10, TimeUnit.SECONDS)) {
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the queued client got a server promptly")
                            .isLessThan(Duration.ofSeconds(5));
                    assertThat(FaultSupport.idleOutsideTransaction(c)).isTrue();
                    awaitCondition("the queued client takes the lock", Duration.ofSeconds(10), () -> {
                        c.setAutoCommit(false);
                        try {
                            lockNowait(c);
                            return true;
                        } finally {
                            c.rollback();
                            c.setAutoCommit(true);
                        }
                    });
                    ServerPool.Stats stats = FaultSupport.poolStats(single, ROLE.name());
                    assertThat(stats.open()).as("%s", stats).isEqualTo(1);
                    assertThat(stats.active()).as("%s", stats).isEqualTo(1);
                }
            } finally {
                queued.cancel(true);
            }
            awaitCondition("no backend of " + ROLE.name() + " idle in transaction", Duration.ofSeconds(10),
                    () -> idleInTransaction(ROLE.name()) == 0);
        }
    }

    /**
     * A client that logged in and waits for the only server, then vanishes: the pool forgets it (it no longer
     * counts as waiting) and, once the server comes back, hands it to the next client at once.
     */
    @ParameterizedTest
    @EnumSource(value = Vanish.class, names = {"CLOSE", "RESET"})
    void clientThatVanishesWhileQueuedIsForgotten(Vanish how) throws Exception {
        try (PgmuxHarness single = PgmuxHarness.start(t -> t.withPoolSize(1).withCheckoutTimeout(Duration.ofSeconds(30)))) {
            Connection holder = single.connect(ROLE);
            try (RawPgClient queued = RawPgClient.connect(single.sessionPort())) {
                queued.write(RawPgClient.startupPacket(PgmuxHarness.tenantUser(ROLE), "postgres"));
                queued.scramExchange(ROLE.password()); // authenticated; now waiting for a server
                awaitCondition("the raw client waits for the only server", Duration.ofSeconds(10), () -> {
                    ServerPool.Stats s = FaultSupport.poolStats(single, ROLE.name());
                    return s != null && s.waiting() == 1;
                }, () -> FaultSupport.allPools(single));
                if (how == Vanish.CLOSE) {
                    queued.close();
                } else {
                    queued.abort();
                }
                awaitCondition("the vanished client no longer waits", Duration.ofSeconds(5),
                        () -> FaultSupport.poolStats(single, ROLE.name()).waiting() == 0,
                        () -> FaultSupport.allPools(single));
            } finally {
                holder.close();
            }
            long t0 = System.nanoTime();
            try (Connection next = single.connect(ROLE)) {
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the next client got the server promptly")
                        .isLessThan(Duration.ofSeconds(5));
                assertThat(FaultSupport.idleOutsideTransaction(next)).isTrue();
                ServerPool.Stats stats = FaultSupport.poolStats(single, ROLE.name());
                assertThat(stats.open()).as("%s", stats).isEqualTo(1);
                assertThat(stats.active()).as("%s", stats).isEqualTo(1);
                assertThat(stats.waiting()).as("%s", stats).isZero();
            }
            awaitCondition("the tenant counts no client once all left", Duration.ofSeconds(5),
                    () -> single.server().runtime().tenants().all().iterator().next().clients() == 0);
        }
    }

    private static void lockNowait(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE NOWAIT");
        }
    }

    private static void requireOk(List<Message> messages) {
        assertThat(messages).as("response").noneMatch(m -> m.tag() == 'E');
    }
}
