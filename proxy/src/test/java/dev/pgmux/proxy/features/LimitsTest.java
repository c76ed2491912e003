package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The limits a tenant sets, on both ports: max_clients refuses the client over it and no other,
 * checkout_timeout turns a wait for a busy pool into an error worded for the port's mode, and
 * limits.max_frame_size closes only the client that sent the oversized message.
 */
@Timeout(60)
class LimitsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final Duration CHECKOUT_TIMEOUT = Duration.ofMillis(500);
    private static final int MAX_FRAME_SIZE = 64 * 1024;

    @ParameterizedTest
    @EnumSource(Port.class)
    void theClientOverMaxClientsIsRefusedAndGetsInOnceAnotherLeaves(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withMaxClients(2))) {
            Tenant tenant = pgmux.tenant();
            try (Connection first = port.connect(pgmux, ROLE)) {
                try (Connection second = port.connect(pgmux, ROLE)) {
                    SQLException refused = catchThrowableOfType(SQLException.class,
                            () -> port.connect(pgmux, ROLE).close());
                    assertThat((Object) refused).as("a third client of a tenant with max_clients 2").isNotNull();
                    assertThat(refused.getSQLState()).as("SQLSTATE of %s", refused).isEqualTo("53300");
                    assertThat(refused.getMessage()).contains("Max client connections reached");
                    // The refused client took no place: the two inside go on.
                    assertThat(tenant.clients()).isEqualTo(2);
                    assertThat(text(first, "SELECT 'first'")).isEqualTo("first");
                    assertThat(text(second, "SELECT 'second'")).isEqualTo("second");
                }
                Wait.until("the client that left no longer counted", () -> tenant.clients() == 1);
                try (Connection next = port.connect(pgmux, ROLE)) {
                    assertThat(text(next, "SELECT 'in again'")).isEqualTo("in again");
                }
            }
            Wait.until("no client counted", () -> tenant.clients() == 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientThatFindsTheOnlyServerBusyPastTheCheckoutTimeoutGets53300(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(1).withCheckoutTimeout(CHECKOUT_TIMEOUT))) {
            String wording = "unable to check out connection from the pool after " + CHECKOUT_TIMEOUT.toMillis()
                    + "ms in " + port.modeName() + " mode";
            Connection holder = port.connect(pgmux, ROLE);
            try {
                holder.setAutoCommit(false);
                assertThat(text(holder, "SELECT 'holding the only server'")).isEqualTo("holding the only server");
                assertThat(pgmux.stats(ROLE).active()).as("servers in use").isEqualTo(1);

                if (port == Port.SESSION) {
                    // A session client needs its server to log in at all.
                    long start = System.nanoTime();
                    SQLException e = catchThrowableOfType(SQLException.class, () -> port.connect(pgmux, ROLE).close());
                    assertThat((Object) e).as("a login while the only server is held").isNotNull();
                    assertTimedOut(e, wording, start);
                    holder.commit();
                    holder.close();
                    pgmux.awaitQuiet(ROLE);
                    try (Connection next = port.connect(pgmux, ROLE)) {
                        assertThat(text(next, "SELECT 'served'")).isEqualTo("served");
                    }
                } else {
                    // A transaction client logs in without a server and waits for one at its first query.
                    try (Connection waiter = port.connect(pgmux, ROLE)) {
                        long start = System.nanoTime();
                        SQLException e = catchThrowableOfType(SQLException.class, () -> text(waiter, "SELECT 1"));
                        assertThat((Object) e).as("a query while the only server is held").isNotNull();
                        assertTimedOut(e, wording, start);
                        assertThat(waiter.isClosed()).as("the waiting client's connection closed").isFalse();
                        holder.commit();
                        assertThat(text(waiter, "SELECT 'served after the commit'")).isEqualTo("served after the commit");
                        assertThat(text(holder, "SELECT 'holder still here'")).isEqualTo("holder still here");
                        holder.commit();
                    }
                }
            } finally {
                holder.close();
            }
            pgmux.awaitQuiet(ROLE);
            assertThat(pgmux.stats(ROLE).open()).as("servers open").isEqualTo(1);
        }
    }

    /**
     * The refused client is inside a transaction when its message comes: pgmux must close it and take its
     * server back out of that transaction (or drop it), while another client's open transaction goes on.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aMessageOverMaxFrameSizeGets08P01AndClosesOnlyItsClient(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(frameLimited())) {
            Connection bystander = port.connect(pgmux, ROLE);
            try {
                bystander.setAutoCommit(false);
                assertThat(text(bystander, "SELECT 'before'")).isEqualTo("before");

                try (WireClient sender = WireClient.login("oversized", "127.0.0.1", port.of(pgmux),
                        PgmuxHarness.tenantUser(ROLE), ROLE.password(), "postgres", Duration.ofSeconds(20))) {
                    assertThat(WireClient.lastStatus(sender.query("BEGIN"))).isEqualTo('T');
                    sender.query("SELECT 'holding a server'");
                    try {
                        sender.send(Wire.query(oversizedQuery()));
                    } catch (IOException closedWhileSending) {
                        // pgmux may close before the whole message is out; what it sent first is still to be read.
                    }
                    WireClient.Reply reply = sender.readUntilReady(1);
                    assertThat(reply.messages()).as("all the sender got").hasSize(1);
                    BackendMessage error = reply.messages().getFirst();
                    assertThat(error.tag()).isEqualTo('E');
                    assertThat(error.sqlState()).isEqualTo("08P01");
                    assertThat(error.fields().get('S')).isEqualTo("FATAL");
                    assertThat(error.fields().get('M')).contains("exceeds the maximum of " + MAX_FRAME_SIZE + " bytes");
                    assertThat(reply.failure()).as("closed after the error").contains("connection lost");
                }

                assertThat(text(bystander, "SELECT 'after'")).as("the bystander's open transaction").isEqualTo("after");
                bystander.commit();
                try (Connection fresh = port.connect(pgmux, ROLE)) {
                    assertThat(text(fresh, "SELECT 'new client'")).isEqualTo("new client");
                }
                // In session mode the bystander keeps its server while it stays; nothing else may hold one.
                int bystanderServers = port == Port.SESSION ? 1 : 0;
                Wait.until("no server in use but the bystander's", Wait.DEFAULT,
                        () -> pgmux.stats(ROLE).active() == bystanderServers, () -> String.valueOf(pgmux.stats(ROLE)));
            } finally {
                bystander.close();
            }
            pgmux.awaitQuiet(ROLE);
            ServerPool.Stats stats = pgmux.stats(ROLE);
            assertThat(stats.open()).as("servers open: %s", stats).isLessThanOrEqualTo(2);
            assertThat(stats.waiting()).as("clients waiting: %s", stats).isZero();
            Wait.until("no server of the role left inside the refused client's transaction",
                    () -> Pgjdbc.idleInTransaction(ROLE.name()) == 0);
        }
    }

    /**
     * What a pgjdbc application sees: the SQLException carries pgmux's 08P01 and its reason. pgjdbc stops
     * at a failed write without reading what came back, so the error reaches it only if pgmux lets the
     * client finish sending (reads and drops the rest) before it closes.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aPgjdbcClientOverMaxFrameSizeIsToldWhyWith08P01(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(frameLimited());
             Connection sender = port.connect(pgmux, ROLE)) {
            assertThat(text(sender, "SELECT 'small is fine'")).isEqualTo("small is fine");
            SQLException e = catchThrowableOfType(SQLException.class, () -> text(sender, oversizedQuery()));
            assertThat((Object) e).as("a query of more than max_frame_size bytes").isNotNull();
            assertThat(sender.isValid(5)).as("the sender's connection after the error").isFalse();
            assertThat(e.getSQLState()).as("SQLSTATE of %s (cause %s)", e, e.getCause()).isEqualTo("08P01");
            assertThat(e.getMessage()).contains("exceeds the maximum of " + MAX_FRAME_SIZE + " bytes");
        }
    }

    private static PgmuxConfig frameLimited() {
        return PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(2))
                .withLimits(LimitsConfig.defaults().withMaxFrameSize(MAX_FRAME_SIZE));
    }

    /** Far over the limit, as a runaway bulk statement is: the client is still sending when pgmux refuses it. */
    private static String oversizedQuery() {
        return "SELECT '" + "x".repeat(128 * MAX_FRAME_SIZE) + "'";
    }

    /** 53300 in pgmux's wording for the port's mode, after the checkout timeout and not long after it. */
    private static void assertTimedOut(SQLException e, String wording, long startNanos) {
        long waitedMillis = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
        assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo("53300");
        assertThat(e.getMessage()).contains(wording);
        assertThat(waitedMillis).as("ms until the error").isGreaterThanOrEqualTo(CHECKOUT_TIMEOUT.toMillis() - 50)
                .isLessThan(10_000);
    }
}
