package dev.pgmux.proxy.cluster;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.ClusterConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

/**
 * Instances registered in one metadata database: a CancelRequest sent to the instance that does not hold the
 * key reaches the query on the one that does, on both ports (to the owner alone when the key names it); a forged
 * key cancels nothing anywhere; an instance that leaves, or whose heartbeat stops, is no longer a peer.
 */
@Timeout(120)
class CancelAcrossInstancesTest {
    private static final String SLEEP = "SELECT pg_sleep(60)";

    private MetadataDatabase database;

    @BeforeEach
    void createDatabase() throws SQLException {
        database = MetadataDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        database.close();
    }

    private static final dev.pgmux.config.UserConfig CONSOLE_ADMIN = new dev.pgmux.config.UserConfig("admin", "admin-pw");

    private PgmuxHarness start(String id, Duration instanceTimeout) {
        return PgmuxHarness.start(PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withConsole(new dev.pgmux.config.ConsoleConfig(java.util.List.of(CONSOLE_ADMIN), java.util.List.of()))
                .withCluster(ClusterConfig.metadata(database.url()).withInstanceId(id).withInstanceTimeout(instanceTimeout)));
    }

    /** SHOW PEERS through the admin console: peer_id, host, port, pool_size per row. */
    private static java.util.List<String> showPeers(PgmuxHarness pgmux) throws SQLException {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", CONSOLE_ADMIN.name());
        props.setProperty("password", CONSOLE_ADMIN.password());
        props.setProperty("sslmode", "disable");
        props.setProperty("preferQueryMode", "simple");
        java.util.List<String> rows = new java.util.ArrayList<>();
        try (Connection console = java.sql.DriverManager.getConnection(Port.TRANSACTION.jdbcUrl(pgmux, "pgbouncer"), props);
             Statement st = console.createStatement(); java.sql.ResultSet rs = st.executeQuery("SHOW PEERS")) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + " " + rs.getString(2) + " " + rs.getInt(3) + " " + rs.getInt(4));
            }
        }
        return rows;
    }

    private static String address(PgmuxHarness pgmux) {
        return "127.0.0.1:" + pgmux.transactionPort();
    }

    private static void awaitPeers(PgmuxHarness a, PgmuxHarness b) {
        Wait.until("each instance a peer of the other", Duration.ofSeconds(10),
                () -> a.server().clusterPeers().contains(address(b)) && b.server().clusterPeers().contains(address(a)));
    }

    private static CompletableFuture<Throwable> sleepOn(Connection c) {
        return CompletableFuture.supplyAsync(() -> {
            try (Statement st = c.createStatement()) {
                st.execute(SLEEP);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aCancelSentToTheOtherInstanceReachesTheQuery(Port port) throws Exception {
        try (PgmuxHarness a = start("a", Duration.ofSeconds(10)); PgmuxHarness b = start("b", Duration.ofSeconds(10))) {
            awaitPeers(a, b);
            try (Connection c = port.connect(a, TestPostgres.SCRAM)) {
                int processId = c.unwrap(PGConnection.class).getBackendPID();
                int secret = Pgjdbc.cancelSecret(c);
                CompletableFuture<Throwable> sleeping = sleepOn(c);
                Wait.until("the sleep runs", () -> Pgjdbc.running(SLEEP) == 1);

                Pgjdbc.sendCancel(port.of(b), processId, secret);
                Throwable failure = sleeping.get(20, TimeUnit.SECONDS);
                assertThat(failure).isInstanceOf(PSQLException.class);
                assertThat(((PSQLException) failure).getSQLState()).isEqualTo("57014");
                assertThat(b.server().runtime().peerCancels().forwarded()).isEqualTo(1);
                assertThat(a.server().runtime().peerCancels().receivedCount()).isEqualTo(1);
                assertThat(text(c, "SELECT 'after'")).isEqualTo("after");
            }
        }
    }

    /**
     * With three instances: a key made up in transaction mode carries its instance's prefix and goes to that
     * instance alone; a session-mode key (the server's own process id) goes to every peer.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aKeyThatNamesItsInstanceGoesToItAloneAndOneThatDoesNotToEveryPeer(Port port) throws Exception {
        try (PgmuxHarness a = start("a", Duration.ofSeconds(10)); PgmuxHarness b = start("b", Duration.ofSeconds(10));
             PgmuxHarness c3 = start("c", Duration.ofSeconds(10))) {
            awaitPeers(a, b);
            awaitPeers(a, c3);
            awaitPeers(b, c3);
            // The console lists the two others, each with the prefix of its keys, and where cancels reach it.
            java.util.List<String> peers = showPeers(a);
            assertThat(peers).hasSize(2).allSatisfy(row -> assertThat(row).matches("([1-9][0-9]*) 127\\.0\\.0\\.1 [0-9]+ 0"));
            assertThat(peers).anySatisfy(row -> assertThat(row).contains(" " + b.transactionPort() + " "))
                    .anySatisfy(row -> assertThat(row).contains(" " + c3.transactionPort() + " "));
            try (Connection c = port.connect(a, TestPostgres.SCRAM)) {
                int processId = c.unwrap(PGConnection.class).getBackendPID();
                int secret = Pgjdbc.cancelSecret(c);
                int prefix = dev.pgmux.proxy.cancel.CancelRegistry.keyPrefixOf(processId);
                if (port == Port.TRANSACTION) {
                    assertThat(prefix).as("a's prefix in the made-up process id").isBetween(1, 511);
                } else {
                    assertThat(prefix).as("the server's own process id").isZero();
                }
                CompletableFuture<Throwable> sleeping = sleepOn(c);
                Wait.until("the sleep runs", () -> Pgjdbc.running(SLEEP) == 1);

                Pgjdbc.sendCancel(port.of(b), processId, secret);
                Throwable failure = sleeping.get(20, TimeUnit.SECONDS);
                assertThat(((PSQLException) failure).getSQLState()).isEqualTo("57014");
                assertThat(a.server().runtime().peerCancels().receivedCount()).isEqualTo(1);
                if (port == Port.TRANSACTION) {
                    assertThat(c3.server().runtime().peerCancels().receivedCount()).as("c, not the owner").isZero();
                } else {
                    Wait.until("c asked too", () -> c3.server().runtime().peerCancels().receivedCount() == 1);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aForgedKeyCancelsNothingAnywhere(Port port) throws Exception {
        try (PgmuxHarness a = start("a", Duration.ofSeconds(10)); PgmuxHarness b = start("b", Duration.ofSeconds(10))) {
            awaitPeers(a, b);
            try (Connection c = port.connect(a, TestPostgres.SCRAM); Statement st = c.createStatement()) {
                int processId = c.unwrap(PGConnection.class).getBackendPID();
                int secret = Pgjdbc.cancelSecret(c);
                CompletableFuture<Throwable> sleeping = CompletableFuture.supplyAsync(() -> {
                    try {
                        st.execute(SLEEP);
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                });
                Wait.until("the sleep runs", () -> Pgjdbc.running(SLEEP) == 1);

                Pgjdbc.sendCancel(port.of(b), processId, secret ^ 1);
                Wait.until("a got the forged key from b", () -> a.server().runtime().peerCancels().receivedCount() == 1);
                Pgjdbc.sendCancel(port.of(a), processId, secret + 1);
                assertThat(Pgjdbc.running(SLEEP)).as("still sleeping").isEqualTo(1);
                assertThat(sleeping).isNotDone();

                st.cancel();
                assertThat(sleeping.get(20, TimeUnit.SECONDS)).isInstanceOf(PSQLException.class);
                assertThat(a.server().runtime().peerCancels().receivedCount()).isEqualTo(1);
            }
        }
    }

    @Test
    void anInstanceThatLeavesOrStopsBeatingIsNoLongerAPeer() throws Exception {
        try (PgmuxHarness a = start("a", Duration.ofSeconds(1))) {
            try (PgmuxHarness b = start("b", Duration.ofSeconds(1))) {
                awaitPeers(a, b);
            }
            Wait.until("b gone from a's peers", Duration.ofSeconds(5), () -> a.server().clusterPeers().isEmpty());

            try (Connection meta = database.connect(); Statement st = meta.createStatement()) {
                st.execute("INSERT INTO pgmux.instances (instance_id, peer_address) VALUES ('silent', '127.0.0.1:1')");
                Wait.until("the silent instance a peer", Duration.ofSeconds(5),
                        () -> a.server().clusterPeers().contains("127.0.0.1:1"));
                // A cancel for a key nobody holds goes to the silent peer, which nothing listens for: a refused
                // connection, and the instance goes on serving.
                Pgjdbc.sendCancel(a.transactionPort(), 12345, 678);
                Wait.until("the silent instance gone once its heartbeat is older than the timeout", Duration.ofSeconds(5),
                        () -> a.server().clusterPeers().isEmpty());
                try (Connection c = Port.TRANSACTION.connect(a, TestPostgres.SCRAM)) {
                    assertThat(text(c, "SELECT 1")).isEqualTo("1");
                }
            }
        }
    }
}
