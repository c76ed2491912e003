package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.testing.Pgjdbc.backends;
import static dev.pgmux.proxy.testing.Pgjdbc.cancelSecret;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.stream.Stream;

/** Logging in to pgmux's session port as {@code user.tenant}, and what a failed login must not do. */
@Timeout(60)
class SessionLoginTest {
    private static final String SCRAM_USER = TestPostgres.SCRAM.name();
    /** How long a condition that should hold soon may take before a test gives up on it. */
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Fresh for each test: the counts of pools and clients below start from nothing. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest();

    @BeforeEach
    void cleanUpstream() {
        // Backends left by earlier tests would blur the counts of upstream connections below.
        TestPostgres.get().terminateBackends(SCRAM_USER);
    }

    static Stream<TestRole> upstreamAuthMethods() {
        return Stream.of(TestPostgres.SCRAM, TestPostgres.MD5, TestPostgres.PLAIN, TestPostgres.TRUST);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("upstreamAuthMethods")
    void logsInUpstreamAsTheRoleWithoutTheTenantSuffix(TestRole role) throws SQLException {
        try (Connection c = pgmux.get().connect(role)) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(role.name());
            assertThat(text(c, "SELECT session_user")).isEqualTo(role.name());
            assertThat(text(c, "SELECT current_database()")).isEqualTo("postgres");
        }
    }

    @Test
    void wrongPasswordIsRefusedWith28P01() {
        PSQLException e = serverError(() -> login(PgmuxHarness.tenantUser(TestPostgres.SCRAM), "not-the-password"));

        assertThat(e.getSQLState()).isEqualTo("28P01");
        assertThat(e.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"scram_user.acme\"");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
    }

    @Test
    void unknownUserOfAKnownTenantLooksExactlyLikeAWrongPassword() {
        PSQLException unknown = serverError(() -> login("ghost.acme", "whatever"));
        PSQLException wrong = serverError(() -> login("scram_user.acme", "whatever"));

        assertThat(unknown.getSQLState()).isEqualTo("28P01").isEqualTo(wrong.getSQLState());
        assertThat(unknown.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"ghost.acme\"");
        assertThat(unknown.getServerErrorMessage().getMessage().replace("ghost.acme", "scram_user.acme"))
                .isEqualTo(wrong.getServerErrorMessage().getMessage());
        assertThat(unknown.getServerErrorMessage().getSeverity()).isEqualTo(wrong.getServerErrorMessage().getSeverity());
        assertThat(unknown.getServerErrorMessage().getHint()).isEqualTo(wrong.getServerErrorMessage().getHint());
        assertThat(unknown.getServerErrorMessage().getDetail()).isEqualTo(wrong.getServerErrorMessage().getDetail());
    }

    @Test
    void unknownTenantIsTenantOrUserNotFound() {
        PSQLException e = serverError(() -> login("scram_user.nope", TestPostgres.SCRAM.password()));

        assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("Tenant or user not found");
        assertThat(e.getSQLState()).isEqualTo("28000");
    }

    @Test
    void failedLoginsOpenNoServerConnection() throws Exception {
        assertThat(backends(SCRAM_USER, null)).isZero();

        serverError(() -> login("scram_user.acme", "not-the-password"));
        serverError(() -> login("ghost.acme", "whatever"));
        serverError(() -> login("scram_user.nope", TestPostgres.SCRAM.password()));

        assertThat(pgmux.get().server().runtime().pools().all()).as("pools created by failed logins").isEmpty();
        assertThat(backends(SCRAM_USER, null)).as("upstream backends of scram_user").isZero();
        Wait.until("the refused clients no longer counted by the tenant", WAIT, () -> pgmux.get().tenant().clients() == 0);

        // The same count does see the one server a successful login needs.
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
            assertThat(text(c, "SELECT 1")).isEqualTo("1");
            assertThat(backends(SCRAM_USER, null)).isEqualTo(1);
            assertThat(pgmux.pool(TestPostgres.SCRAM).orElseThrow().stats().open()).isEqualTo(1);
        }
    }

    @Test
    void clientGetsItsServersProcessIdWithASecretOfPgmuxs() throws Exception {
        int pid;
        int secret;
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
            pid = c.unwrap(PGConnection.class).getBackendPID();
            secret = cancelSecret(c);
            assertThat(pid).as("pid in BackendKeyData: the server's, as pg_backend_pid() says").isEqualTo(serverPid(c));
        }
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        // The secret belongs to the client, not to the server: the next client of the same server gets another.
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
            assertThat(serverPid(c)).as("the pooled server is reused").isEqualTo(pid);
            assertThat(c.unwrap(PGConnection.class).getBackendPID()).isEqualTo(pid);
            assertThat(cancelSecret(c)).as("a new secret").isNotEqualTo(secret);
        }
    }

    private Connection login(String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        Connection c = DriverManager.getConnection(pgmux.get().sessionJdbcUrl("postgres"), props);
        c.close();
        return c;
    }
}
