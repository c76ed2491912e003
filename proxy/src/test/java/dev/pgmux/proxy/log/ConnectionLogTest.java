package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.LogCapture.field;
import static dev.pgmux.proxy.testing.LogCapture.fields;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The login and disconnect lines on {@code pgmux.connections}, through real pgjdbc logins: who, tenant,
 * database, address, port, TLS, and for the end its duration and reason; failed logins at most once per
 * repeat interval, then a count; the settings followed on reload.
 */
@Timeout(120)
class ConnectionLogTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final UserConfig ADMIN = new UserConfig("admin", "admin-pw");

    @ParameterizedTest
    @EnumSource(Port.class)
    void aLoginAndItsEndAreOneLineEachNamingTheClient(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true))); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            String address;
            try (Connection c = port.connect(pgmux, ROLE)) {
                address = "127.0.0.1:" + Pgjdbc.socket(c).getLocalPort();
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
            }
            ILoggingEvent end = log.await("the disconnect line", field("event", "disconnect").and(field("address", address)));
            List<ILoggingEvent> lines = log.events(field("address", address));
            assertThat(lines).hasSize(2);
            ILoggingEvent login = lines.get(0);
            String mode = port.name().toLowerCase();

            assertThat(login.getLevel()).isEqualTo(Level.INFO);
            assertThat(login.getLoggerName()).isEqualTo("pgmux.connections");
            Map<String, String> in = fields(login);
            assertThat(in).containsEntry("event", "login").containsEntry("user", ROLE.name())
                    .containsEntry("tenant", PgmuxHarness.TENANT).containsEntry("database", "postgres")
                    .containsEntry("address", address).containsEntry("mode", mode).containsEntry("tls", "no");
            assertThat(login.getFormattedMessage()).isEqualTo("client " + in.get("client") + " login: user=" + ROLE.name()
                    + " tenant=acme database=postgres address=" + address + " mode=" + mode + " tls=no");

            Map<String, String> out = fields(end);
            assertThat(out).containsEntry("client", in.get("client")).containsEntry("end", "client_closed")
                    .containsEntry("reason", "client closed").containsEntry("user", ROLE.name())
                    .doesNotContainKey("sqlstate");
            assertThat(Long.parseLong(out.get("duration_ms"))).isBetween(0L, 60_000L);
            assertThat(end.getFormattedMessage()).matches("client " + in.get("client") + " disconnect: user="
                    + ROLE.name() + " tenant=acme database=postgres address=" + address.replace(".", "\\.") + " mode="
                    + mode + " tls=no duration=\\d+\\.\\d{3}s reason=\"client closed\"");
        }
    }

    @Test
    void aTlsClientIsSaidToUseTls() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant()).withTls(TlsConfig.selfSigned(TlsMode.ALLOWED))
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            Properties props = PgmuxHarness.loginProperties(ROLE, new Properties());
            props.setProperty("sslmode", "require");
            try (Connection c = DriverManager.getConnection(pgmux.sessionJdbcUrl("postgres"), props)) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
            }
            ILoggingEvent end = log.await("the disconnect line", field("event", "disconnect"));
            assertThat(fields(end)).containsEntry("tls", "yes");
            assertThat(fields(log.events(field("event", "login")).get(0))).containsEntry("tls", "yes");
        }
    }

    @Test
    void aFailedLoginSaysWhyAndAStormOfThemIsOneLineAndACount() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withRepeatInterval(Duration.ofSeconds(4)));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            for (int i = 0; i < 12; i++) {
                SQLException e = wrongPassword(pgmux);
                assertThat(e.getSQLState()).isEqualTo("28P01");
            }
            ILoggingEvent summary = log.await("the count of the failed logins not logged", field("repeats", 11));
            List<ILoggingEvent> failed = log.events(field("event", "login_failed"));
            assertThat(failed).as(log.text()).hasSize(2); // the first, then the count

            Map<String, String> first = fields(failed.get(0));
            assertThat(first).containsEntry("user", ROLE.name()).containsEntry("tenant", "acme")
                    .containsEntry("end", "login_failed").containsEntry("login_failure", "auth_failed")
                    .containsEntry("sqlstate", "28P01").containsKey("duration_ms");
            assertThat(first.get("reason")).isEqualTo("login failed: auth_failed (FATAL 28P01 password authentication "
                    + "failed for user \"" + PgmuxHarness.tenantUser(ROLE) + "\")");
            assertThat(failed.get(0).getFormattedMessage()).startsWith("client " + first.get("client") + " login failed: user="
                    + ROLE.name() + " tenant=acme database=postgres address=127.0.0.1:");
            assertThat(summary.getFormattedMessage()).matches("login failed: auth_failed \\(tenant acme\\): 11 more in \\d+ s");
            assertThat(fields(summary)).containsEntry("login_failure", "auth_failed").containsEntry("tenant", "acme");

            // Another reason is another kind of line: not held back with the wrong passwords.
            SQLException unknown = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                    pgmux.sessionJdbcUrl("postgres"), login("someone.nowhere", "x")));
            assertThat(unknown.getSQLState()).isEqualTo("28000");
            ILoggingEvent notFound = log.await("the unknown tenant's line", field("login_failure", "not_authorized"));
            assertThat(fields(notFound)).containsEntry("user", "someone.nowhere").doesNotContainKey("tenant");
        }
    }

    @Test
    void theReasonNamesWhoEndedTheSession() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withConsole(new ConsoleConfig(List.of(ADMIN), List.of())).withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            // An admin's KILL_CLIENT: pgmux's FATAL error.
            try (Connection victim = Port.TRANSACTION.connect(pgmux, ROLE);
                 Connection admin = DriverManager.getConnection(Port.SESSION.jdbcUrl(pgmux, "pgbouncer"),
                         login(ADMIN.name(), ADMIN.password()))) {
                String id = fields(log.await("the victim's login", field("mode", "transaction"))).get("client");
                try (Statement st = admin.createStatement()) {
                    st.execute("KILL_CLIENT " + id);
                }
                ILoggingEvent killed = log.await("the victim's end", field("client", id).and(field("event", "disconnect")));
                assertThat(fields(killed)).containsEntry("end", "fatal").containsEntry("sqlstate", "57P01")
                        .containsEntry("reason", "FATAL 57P01 admin forced disconnect");
                assertThat((Object) catchThrowableOfType(SQLException.class, () -> text(victim, "SELECT 1"))).isNotNull();

                // The console user's own login: no tenant, the console's database.
                assertThat(fields(log.events(field("user", ADMIN.name())).get(0))).containsEntry("event", "login")
                        .containsEntry("database", "pgbouncer").doesNotContainKey("tenant");
            }
            // Its server terminated under a session-mode client: the server was lost.
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                String id = fields(log.await("the session client's login", field("mode", "session")
                        .and(field("user", ROLE.name())))).get("client");
                terminate(Pgjdbc.serverPid(c));
                assertThat((Object) catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 1"))).isNotNull();
                ILoggingEvent lost = log.await("the session client's end", field("client", id).and(field("event", "disconnect")));
                assertThat(fields(lost)).containsEntry("end", "server_lost");
                assertThat(fields(lost).get("reason")).startsWith("server lost");
            }
        }
    }

    @Test
    void connectionsWithoutAStartupPacketAreNotLogged() throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true))); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            for (int i = 0; i < 3; i++) {
                try (WireClient probe = WireClient.connect(pgmux.sessionPort())) {
                    probe.closeWithoutTerminate(); // a balancer's health check: connect, close
                }
            }
            Pgjdbc.sendCancel(pgmux.transactionPort(), 1, 2); // a cancel request matching nobody
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                text(c, "SELECT 1");
            }
            log.await("the real client's disconnect line", field("event", "disconnect"));
            assertThat(log.events()).as(log.text()).hasSize(2);
        }
    }

    @Test
    void theSettingsAreFollowedOnReload() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withLogConnections(false));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            roundTrip(pgmux);
            log.await("a disconnect line", field("event", "disconnect"));
            assertThat(log.events(field("event", "login"))).as("log_connections: false").isEmpty();

            pgmux.server().reload(config.withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withLogDisconnections(false)));
            log.clear();
            roundTrip(pgmux);
            log.await("a login line", field("event", "login"));
            wrongPassword(pgmux);
            roundTrip(pgmux); // a marker: its login line comes after the ends that were not logged
            Wait.until("the marker's login line", () -> log.events(field("event", "login")).size() == 2, log::text);
            assertThat(log.events(field("event", "disconnect"))).as("log_disconnections: false").isEmpty();
            assertThat(log.events(field("event", "login_failed"))).as("failed logins are disconnections").isEmpty();
        }
    }

    private static void roundTrip(PgmuxHarness pgmux) throws SQLException {
        try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
            text(c, "SELECT 1");
        }
    }

    private static SQLException wrongPassword(PgmuxHarness pgmux) {
        return catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(pgmux.sessionJdbcUrl("postgres"),
                login(PgmuxHarness.tenantUser(ROLE), "not-the-password")));
    }

    private static Properties login(String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        return props;
    }

    private static void terminate(int pid) throws SQLException {
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement("SELECT pg_terminate_backend(?)")) {
            ps.setInt(1, pid);
            ps.executeQuery().close();
        }
    }
}
