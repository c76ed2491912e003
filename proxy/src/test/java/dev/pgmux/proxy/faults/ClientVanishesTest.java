package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.idleInTransaction;
import static dev.pgmux.proxy.testing.Pgjdbc.idleOutsideTransaction;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;

import java.io.IOException;
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
import org.junit.jupiter.api.extension.RegisterExtension;
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

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(t -> t.withPoolSize(POOL_SIZE));

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
    static void createTable() throws SQLException {
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id int)");
        }
    }

    @AfterAll
    static void dropTable() throws SQLException {
        try (Connection c = TestPostgres.get().connect(ROLE); Statement st = c.createStatement()) {
            // pgmux still runs here: should a server of a failed test still hold the lock, give up, do not hang.
            st.execute("SET lock_timeout = '10s'");
            st.execute("DROP TABLE IF EXISTS " + TABLE);
        }
    }

    @ParameterizedTest
    @EnumSource(Vanish.class)
    void lockHolderThatVanishesReleasesItsLockAndServer(Vanish how) throws Exception {
        int pid;
        try (WireClient holder = login(pgmux.get());
             Connection other = pgmux.get().connect(ROLE)) {
            pid = Integer.parseInt(holder.queryValue("SELECT pg_backend_pid()"));
            holder.query("BEGIN");
            holder.query("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE");

            // While the holder is there, the lock is taken and its backend sits in the transaction.
            other.setAutoCommit(false);
            SQLException busy = catchThrowableOfType(SQLException.class, () -> lockNowait(other));
            assertThat((Throwable) busy).as("the lock is held while its holder is connected").isNotNull();
            assertThat(busy.getSQLState()).isEqualTo("55P03");
            other.rollback();
            assertThat(idleInTransaction(ROLE.name())).as("the holder's backend is idle in transaction").isEqualTo(1);

            switch (how) {
                case CLOSE -> holder.closeWithoutTerminate();
                case RESET -> holder.reset();
                case RESET_MID_MESSAGE -> {
                    holder.send(Arrays.copyOf(Wire.query("COMMIT"), 7));
                    holder.reset();
                }
            }

            Wait.until("another client takes the lock the vanished client held", Duration.ofSeconds(10), () -> {
                try {
                    lockNowait(other);
                    return true;
                } finally {
                    other.rollback();
                }
            });
            other.setAutoCommit(true);
            assertThat(text(other, "SELECT 'still fine'")).isEqualTo("still fine");
        }

        Wait.until("the vanished client's backend " + pid + " is gone", Duration.ofSeconds(10), () -> !backendAlive(pid));
        Wait.until("no backend of " + ROLE.name() + " idle in transaction", Duration.ofSeconds(10),
                () -> idleInTransaction(ROLE.name()) == 0);
        Wait.until("no server counted active once every client left", Duration.ofSeconds(10), () -> pgmux.pool(ROLE)
                .map(p -> p.stats().active() == 0 && p.stats().connecting() == 0 && p.stats().waiting() == 0)
                .orElse(false), pgmux.get()::describePools);
        ServerPool.Stats stats = pgmux.get().stats(ROLE);
        assertThat(stats.open()).as("open servers after every client left: %s", stats).isBetween(0, POOL_SIZE);
        assertThat(stats.idle()).as("every open server is idle: %s", stats).isEqualTo(stats.open());

        // The pool still hands out clean servers, all pool_size of them at once (no slot leaked).
        List<Connection> all = new ArrayList<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                long t0 = System.nanoTime();
                Connection c = pgmux.get().connect(ROLE);
                all.add(c);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("login %d of %d", i + 1, POOL_SIZE)
                        .isLessThan(Duration.ofSeconds(5));
                assertThat(idleOutsideTransaction(c)).as("a server of the pool is outside any transaction").isTrue();
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
             WireClient holder = login(single)) {
            holder.query("BEGIN");
            holder.query("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE");

            Future<Connection> queued = threads.submit(() -> single.connect(ROLE));
            try {
                Wait.until("a second client waits for the only server", Duration.ofSeconds(10),
                        () -> single.pool(ROLE).map(p -> p.stats().waiting() == 1).orElse(false), single::describePools);

                long t0 = System.nanoTime();
                if (how == Vanish.CLOSE) {
                    holder.closeWithoutTerminate();
                } else {
                    holder.reset();
                }
                try (Connection c = queued.get(10, TimeUnit.SECONDS)) {
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the queued client got a server promptly")
                            .isLessThan(Duration.ofSeconds(5));
                    assertThat(idleOutsideTransaction(c)).isTrue();
                    Wait.until("the queued client takes the lock", Duration.ofSeconds(10), () -> {
                        c.setAutoCommit(false);
                        try {
                            lockNowait(c);
                            return true;
                        } finally {
                            c.rollback();
                            c.setAutoCommit(true);
                        }
                    });
                    ServerPool.Stats stats = single.stats(ROLE);
                    assertThat(stats.open()).as("%s", stats).isEqualTo(1);
                    assertThat(stats.active()).as("%s", stats).isEqualTo(1);
                }
            } finally {
                queued.cancel(true);
            }
            Wait.until("no backend of " + ROLE.name() + " idle in transaction", Duration.ofSeconds(10),
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
            try (WireClient queued = WireClient.connect(single.sessionPort())) {
                queued.send(Wire.startupPacket(PgmuxHarness.tenantUser(ROLE), "postgres"));
                // Authenticated, then waiting for a server.
                queued.authenticate(PgmuxHarness.tenantUser(ROLE), ROLE.password());
                Wait.until("the raw client waits for the only server", Duration.ofSeconds(10),
                        () -> single.pool(ROLE).map(p -> p.stats().waiting() == 1).orElse(false), single::describePools);
                if (how == Vanish.CLOSE) {
                    queued.closeWithoutTerminate();
                } else {
                    queued.reset();
                }
                Wait.until("the vanished client no longer waits", Duration.ofSeconds(5),
                        () -> single.pool(ROLE).map(p -> p.stats().waiting() == 0).orElse(false), single::describePools);
            } finally {
                holder.close();
            }
            long t0 = System.nanoTime();
            try (Connection next = single.connect(ROLE)) {
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the next client got the server promptly")
                        .isLessThan(Duration.ofSeconds(5));
                assertThat(idleOutsideTransaction(next)).isTrue();
                ServerPool.Stats stats = single.stats(ROLE);
                assertThat(stats.open()).as("%s", stats).isEqualTo(1);
                assertThat(stats.active()).as("%s", stats).isEqualTo(1);
                assertThat(stats.waiting()).as("%s", stats).isZero();
            }
            Wait.until("the tenant counts no client once all left", Duration.ofSeconds(5),
                    () -> single.tenant().clients() == 0);
        }
    }

    private static void lockNowait(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE NOWAIT");
        }
    }

    /** A raw client logged in as {@link #ROLE} through the session port. */
    private static WireClient login(PgmuxHarness harness) throws IOException {
        return WireClient.login("lock holder", "127.0.0.1", harness.sessionPort(), PgmuxHarness.tenantUser(ROLE),
                ROLE.password(), "postgres", Duration.ofSeconds(10));
    }
}
