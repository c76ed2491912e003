package dev.pgmux.proxy.cluster;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static dev.pgmux.proxy.cluster.TenantLogins.login;
import static dev.pgmux.proxy.cluster.TenantLogins.logsIn;
import static dev.pgmux.proxy.cluster.TenantLogins.running;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.pgmux.config.AdminConfig;
import dev.pgmux.config.ClusterConfig;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.util.PSQLException;

/**
 * cluster.metadata_url: tenants kept in a metadata database (a database of the test cluster made for each
 * test), read at start and followed through LISTEN/NOTIFY, applied as a reload applies a file: within a
 * second, on both ports, without dropping a client; a row that breaks the rules is left out alone; the
 * tenants stay in force while the database is away, and what changed meanwhile arrives when it is back.
 */
@Timeout(120)
class MetadataTenantsTest {
    private static final Duration WITHIN_A_SECOND = Duration.ofSeconds(1);

    private MetadataDatabase database;

    @BeforeEach
    void createDatabase() throws SQLException {
        database = MetadataDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        database.close();
    }

    private String metadataUrl() {
        return database.url();
    }

    private PgmuxHarness start(List<TenantConfig> fileTenants) {
        return PgmuxHarness.start(new PgmuxConfig(ListenConfig.ephemeral(), TlsConfig.disabled(), LimitsConfig.defaults(),
                Optional.empty(), fileTenants, AdminConfig.defaults(), ConsoleConfig.none(), LogConfig.defaults(),
                ClusterConfig.metadata(metadataUrl())));
    }

    private PgmuxHarness start() {
        return start(List.of(PgmuxHarness.defaultTenant()));
    }

    private Connection metadata() throws SQLException {
        return database.connect();
    }

    /** A tenant of the test cluster as a metadata row's spec: the scram role, to database postgres. */
    private static String spec(String id, int poolSize) {
        TestPostgres pg = TestPostgres.get();
        return "{\"id\": \"" + id + "\", \"upstream\": {\"host\": \"" + pg.host() + "\", \"port\": " + pg.port()
                + ", \"database\": \"postgres\"}, \"pool_size\": " + poolSize + ", \"users\": [{\"name\": \""
                + TestPostgres.SCRAM.name() + "\", \"password\": \"" + TestPostgres.SCRAM.password() + "\"}]}";
    }

    private void put(String id, String spec) throws SQLException {
        try (Connection c = metadata(); PreparedStatement st = c.prepareStatement(
                "INSERT INTO pgmux.tenants (id, spec) VALUES (?, ?::jsonb) "
                        + "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, updated_at = now()")) {
            st.setString(1, id);
            st.setString(2, spec);
            st.executeUpdate();
        }
    }

    private void delete(String id) throws SQLException {
        try (Connection c = metadata(); PreparedStatement st = c.prepareStatement("DELETE FROM pgmux.tenants WHERE id = ?")) {
            st.setString(1, id);
            st.executeUpdate();
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aTenantWrittenToTheMetadataDatabaseServesLoginsWithinASecond(Port port) throws Exception {
        try (PgmuxHarness pgmux = start()) {
            assertThat(logsIn(pgmux, port, "beta")).isFalse();
            put("beta", spec("beta", 3));
            long written = System.nanoTime();
            Wait.until("a login as scram_user.beta", WITHIN_A_SECOND, () -> logsIn(pgmux, port, "beta"));
            assertThat(Duration.ofNanos(System.nanoTime() - written)).isLessThan(WITHIN_A_SECOND);
            assertThat(running(pgmux, "beta").orElseThrow().poolSize()).isEqualTo(3);
            assertThat(logsIn(pgmux, port, PgmuxHarness.TENANT)).as("the file's tenant").isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void changesApplyWithoutDroppingAClientAndADeletedTenantTakesNoMoreLogins(Port port) throws Exception {
        try (PgmuxHarness pgmux = start()) {
            put("beta", spec("beta", 3));
            Wait.until("beta serves", WITHIN_A_SECOND, () -> logsIn(pgmux, port, "beta"));
            try (Connection client = login(pgmux, port, "beta")) {
                assertThat(text(client, "SELECT 'before'")).isEqualTo("before");
                put("beta", spec("beta", 7));
                Wait.until("pool_size 7", WITHIN_A_SECOND, () -> running(pgmux, "beta").orElseThrow().poolSize() == 7);
                assertThat(text(client, "SELECT 'after the change'")).isEqualTo("after the change");

                delete("beta");
                Wait.until("beta gone", WITHIN_A_SECOND, () -> running(pgmux, "beta").isEmpty());
                PSQLException refused = serverError(() -> login(pgmux, port, "beta").close());
                assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("Tenant or user not found");
            }
        }
    }

    @Test
    void aRowThatBreaksTheRulesIsLeftOutAloneAndAppliesOnceFixed() throws Exception {
        try (PgmuxHarness pgmux = start();
             LogCapture log = LogCapture.of(MetadataStore.class.getName(), Level.WARN)) {
            put("broken", spec("broken", 3).replace("\"pool_size\": 3", "\"pool_size\": -1, \"colour\": \"red\""));
            put("beta", spec("beta", 3));
            Wait.until("beta serves", WITHIN_A_SECOND, () -> logsIn(pgmux, Port.TRANSACTION, "beta"));
            log.await("the broken row's problems", e -> e.getFormattedMessage().contains("tenants[broken].pool_size")
                    && e.getFormattedMessage().contains("tenants[broken].colour: unknown key"));
            assertThat(running(pgmux, "broken")).isEmpty();
            assertThat(log.text()).doesNotContain(TestPostgres.SCRAM.password());

            put("broken", spec("broken", 4));
            Wait.until("the fixed row serves", WITHIN_A_SECOND, () -> logsIn(pgmux, Port.SESSION, "broken"));
            assertThat(running(pgmux, "broken").orElseThrow().poolSize()).isEqualTo(4);
        }
    }

    @Test
    void aTenantTheFileHasTooKeepsTheFilesSettings() throws Exception {
        try (PgmuxHarness pgmux = start();
             LogCapture log = LogCapture.of("dev.pgmux.proxy.reload.Reloader", Level.WARN)) {
            int filePoolSize = running(pgmux, PgmuxHarness.TENANT).orElseThrow().poolSize();
            put(PgmuxHarness.TENANT, spec(PgmuxHarness.TENANT, filePoolSize + 4));
            put("beta", spec("beta", 3));
            Wait.until("beta serves", WITHIN_A_SECOND, () -> logsIn(pgmux, Port.TRANSACTION, "beta"));
            log.await("the clash", e -> e.getFormattedMessage().contains("tenant \"" + PgmuxHarness.TENANT
                    + "\" of the metadata database is left out"));
            assertThat(running(pgmux, PgmuxHarness.TENANT).orElseThrow().poolSize()).isEqualTo(filePoolSize);
        }
    }

    @Test
    void aReloadOfTheFileKeepsTheMetadatasTenants() throws Exception {
        try (PgmuxHarness pgmux = start()) {
            put("beta", spec("beta", 3));
            Wait.until("beta serves", WITHIN_A_SECOND, () -> logsIn(pgmux, Port.TRANSACTION, "beta"));
            PgmuxConfig file = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant().withPoolSize(9))
                    .withCluster(ClusterConfig.metadata(metadataUrl()));
            pgmux.server().reload(file);
            assertThat(running(pgmux, PgmuxHarness.TENANT).orElseThrow().poolSize()).isEqualTo(9);
            assertThat(running(pgmux, "beta")).isPresent();
            assertThat(logsIn(pgmux, Port.SESSION, "beta")).isTrue();
        }
    }

    @Test
    void withNoTenantInTheFileEveryTenantComesFromTheMetadataAndEveryInstanceFollowsIt() throws Exception {
        try (PgmuxHarness first = start(List.of()); PgmuxHarness second = start(List.of())) {
            assertThat(first.adminGet("/ready")).isEqualTo(200);
            put("beta", spec("beta", 2));
            Wait.until("both instances serve beta", WITHIN_A_SECOND,
                    () -> logsIn(first, Port.TRANSACTION, "beta") && logsIn(second, Port.SESSION, "beta"));
            try (Connection c = metadata(); Statement st = c.createStatement()) {
                assertThat(text(c, "SELECT max(version) FROM pgmux.schema_migrations")).isEqualTo("4");
            }
            // An instance that starts now reads the tenants before its listeners open: its first login finds beta.
            try (PgmuxHarness third = start(List.of())) {
                assertThat(logsIn(third, Port.TRANSACTION, "beta")).isTrue();
            }
        }
    }

    @Test
    void anInstanceThatStartsWhileTheDatabaseIsAwayIsNotReadyUntilItHasReadTheTenants() throws Exception {
        try (PgmuxHarness first = start(List.of())) {
            put("beta", spec("beta", 2));
        }
        try (LogCapture log = LogCapture.of(MetadataStore.class.getName(), Level.INFO)) {
            database.allowConnections(false);
            try (PgmuxHarness pgmux = start(List.of(PgmuxHarness.defaultTenant()))) {
                assertThat(pgmux.adminGet("/ready")).isEqualTo(503);
                // Without a lease it cannot know what the other instances hold of the tenant's max_clients.
                SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> login(pgmux, Port.TRANSACTION, PgmuxHarness.TENANT).close());
                assertThat(refused.getSQLState()).isEqualTo("57P03");
                assertThat(refused.getMessage()).contains("cannot reach its metadata database");
                assertThat(logsIn(pgmux, Port.TRANSACTION, "beta")).isFalse();

                database.allowConnections(true);
                Wait.until("ready once the tenants are read", Duration.ofSeconds(15), () -> pgmux.adminGet("/ready") == 200);
                assertThat(logsIn(pgmux, Port.SESSION, "beta")).isTrue();
                assertThat(logsIn(pgmux, Port.TRANSACTION, PgmuxHarness.TENANT)).as("the file's tenant serves").isTrue();
            }
            assertThat(log.text()).contains("reachable again")
                    .doesNotContain(TestPostgres.get().superuserRole().password());
        }
    }

    @Test
    void whileTheMetadataDatabaseIsAwayClientsGoOnAndChangesArriveOnceItIsBack() throws Exception {
        try (PgmuxHarness pgmux = start()) {
            put("beta", spec("beta", 3));
            Wait.until("beta serves", WITHIN_A_SECOND, () -> logsIn(pgmux, Port.TRANSACTION, "beta"));
            try (Connection client = login(pgmux, Port.TRANSACTION, "beta");
                 Connection writer = metadata();
                 Connection admin = TestPostgres.get().superuser(); Statement st = admin.createStatement()) {
                assertThat(Scrape.of(pgmux).body()).contains("pgmux_metadata_connected 1.0", "pgmux_metadata_tenants 1.0");
                database.allowConnections(false);
                st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database.name()
                        + "' AND application_name = 'pgmux metadata'");
                Wait.until("pgmux_metadata_connected 0", () -> Scrape.of(pgmux).body().contains("pgmux_metadata_connected 0.0"));
                Wait.until("pgmux's metadata connection gone", () -> Long.parseLong(text(admin,
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database.name()
                                + "' AND application_name = 'pgmux metadata'")) == 0);

                try (Statement w = writer.createStatement()) {
                    w.execute("INSERT INTO pgmux.tenants (id, spec) VALUES ('gamma', '" + spec("gamma", 2) + "')");
                }
                for (int i = 0; i < 5; i++) {
                    assertThat(text(client, "SELECT " + i)).isEqualTo(Integer.toString(i));
                }
                assertThat(logsIn(pgmux, Port.SESSION, "beta")).as("the tenants last read stay").isTrue();
                assertThat(logsIn(pgmux, Port.SESSION, "gamma")).as("a new tenant waits for the database").isFalse();
                assertThat(pgmux.adminGet("/ready")).isEqualTo(200);

                database.allowConnections(true);
                Wait.until("gamma serves once the database is back", Duration.ofSeconds(15),
                        () -> logsIn(pgmux, Port.SESSION, "gamma"));
                assertThat(Scrape.of(pgmux).body()).contains("pgmux_metadata_connected 1.0", "pgmux_metadata_tenants 2.0");
                assertThat(text(client, "SELECT 'still here'")).isEqualTo("still here");
            }
        }
    }
}
