package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.SslMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamTls;
import dev.pgmux.config.UpstreamUrl;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.pool.UpstreamOutages;
import dev.pgmux.proxy.reload.ReloadResult;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestPostgresTls;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * pgmux's TLS towards its upstream, with libpq's sslmode, against a Postgres that takes TLS connections only
 * ({@link TestPostgresTls}) and against the main test Postgres, which has no TLS: each mode logs in as libpq
 * would or fails as libpq would, the client hears why (08006, or the server's own error), on both ports.
 */
@Timeout(120)
class UpstreamTlsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    /** {@link TestPostgresTls#CERT} as pgmux's clients log in to it: pgmux authenticates it with this password. */
    private static final TestRole CERT_CLIENT = new TestRole(TestPostgresTls.CERT.name(), "cert_pass");
    private static final String SSL_IN_USE = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(4);

    private static TestPostgresTls tls() {
        return TestPostgresTls.get();
    }

    private static PgmuxHarness start(TenantConfig tenant) {
        return PgmuxHarness.start(PgmuxConfig.ephemeral(tenant.withConnectTimeout(CONNECT_TIMEOUT)));
    }

    private static PgmuxHarness start(String host, UpstreamTls settings) {
        return start(tls().tenant(host, settings));
    }

    static Stream<Arguments> modesThatWork() {
        List<Arguments> cases = new ArrayList<>();
        for (Port port : Port.values()) {
            cases.add(Arguments.of(port, "127.0.0.1", UpstreamTls.of(SslMode.ALLOW)));
            cases.add(Arguments.of(port, "127.0.0.1", UpstreamTls.of(SslMode.PREFER)));
            cases.add(Arguments.of(port, "127.0.0.1", UpstreamTls.of(SslMode.REQUIRE)));
            cases.add(Arguments.of(port, "127.0.0.1", tls().trusting(SslMode.REQUIRE)));
            cases.add(Arguments.of(port, "127.0.0.1", tls().trusting(SslMode.VERIFY_CA)));
            cases.add(Arguments.of(port, "localhost", tls().trusting(SslMode.VERIFY_FULL)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {2} to {1}")
    @MethodSource("modesThatWork")
    void everyModeThatTriesTlsLogsInOverTls(Port port, String host, UpstreamTls settings) throws Exception {
        try (PgmuxHarness pgmux = start(host, settings); Connection c = port.connect(pgmux, ROLE)) {
            assertThat(text(c, SSL_IN_USE)).as("pg_stat_ssl of the pooled server under %s", settings).isEqualTo("true");
            assertThat(text(c, "SELECT current_user")).isEqualTo(ROLE.name());
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void disableMeetsTheServersOwnRefusal(Port port) {
        try (PgmuxHarness pgmux = start("127.0.0.1", UpstreamTls.of(SslMode.DISABLE))) {
            SQLException e = sqlError(() -> port.connect(pgmux, ROLE).close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("pg_hba.conf", "no encryption");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void verifyFullTowardsAnAddressTheCertificateDoesNotNameFailsQuickly(Port port) {
        try (PgmuxHarness pgmux = start("127.0.0.1", tls().trusting(SslMode.VERIFY_FULL))) {
            long start = System.nanoTime();
            SQLException e = sqlError(() -> port.connect(pgmux, ROLE).close());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(e.getSQLState()).as("%s", e.getMessage()).startsWith("08");
            assertThat(e.getMessage()).contains("server login failed: tenant " + PgmuxHarness.TENANT + ": TLS with 127.0.0.1:"
                    + tls().port(), "certificate does not match the host name");
            assertThat(took).as("time to the error").isLessThan(CONNECT_TIMEOUT);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aCertificateOfAnotherCaIsNotTrusted(Port port) {
        UpstreamTls settings = UpstreamTls.of(SslMode.VERIFY_CA).withRootCert(tls().untrustedRootCert().toString());
        try (PgmuxHarness pgmux = start("127.0.0.1", settings)) {
            SQLException e = sqlError(() -> port.connect(pgmux, ROLE).close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).startsWith("08");
            assertThat(e.getMessage()).contains("tenant " + PgmuxHarness.TENANT, "certificate not trusted");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void preferWithAnUntrustedCertificateFallsBackToPlaintextAsLibpqDoes(Port port) {
        // libpq retries in plaintext after a failed handshake under prefer; this server refuses plaintext.
        UpstreamTls settings = UpstreamTls.of(SslMode.PREFER).withRootCert(tls().untrustedRootCert().toString());
        try (PgmuxHarness pgmux = start("127.0.0.1", settings)) {
            SQLException e = sqlError(() -> port.connect(pgmux, ROLE).close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("no encryption");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void requireAgainstAServerWithoutTlsFailsWithLibpqsWords(Port port) {
        TestPostgres plain = TestPostgres.get();
        TenantConfig tenant = PgmuxHarness.defaultTenant()
                .withUpstream(new dev.pgmux.config.UpstreamConfig(plain.host(), plain.port(), "postgres",
                        UpstreamTls.of(SslMode.REQUIRE)));
        try (PgmuxHarness pgmux = start(tenant)) {
            SQLException e = sqlError(() -> port.connect(pgmux, ROLE).close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).startsWith("08");
            assertThat(e.getMessage()).contains("tenant " + PgmuxHarness.TENANT,
                    "server does not support SSL, but SSL was required");
        }
    }

    @Test
    void preferAgainstAServerWithoutTlsLogsInInPlaintext() throws Exception {
        // The main test Postgres answers 'N'.
        try (PgmuxHarness pgmux = PgmuxHarness.start(); Connection c = Port.TRANSACTION.connect(pgmux, ROLE)) {
            assertThat(text(c, SSL_IN_USE)).isEqualTo("false");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientCertificateLogsInTheCertUser(Port port) throws Exception {
        UpstreamTls settings = tls().trusting(SslMode.VERIFY_FULL).withClientCertificate(tls().clientCert(), tls().clientKey());
        try (PgmuxHarness pgmux = start(certTenant(settings)); Connection c = port.connect(pgmux, CERT_CLIENT)) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(CERT_CLIENT.name());
            assertThat(text(c, "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .isEqualTo("/CN=" + CERT_CLIENT.name());
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void withoutAClientCertificateTheCertUserIsRefusedByTheServer(Port port) {
        try (PgmuxHarness pgmux = start(certTenant(tls().trusting(SslMode.VERIFY_FULL)))) {
            SQLException e = sqlError(() -> port.connect(pgmux, CERT_CLIENT).close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).isEqualTo("28000");
        }
    }

    private static TenantConfig certTenant(UpstreamTls settings) {
        return tls().tenant("localhost", settings).withUsers(List.of(new UserConfig(CERT_CLIENT.name(), CERT_CLIENT.password())));
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anUpstreamUrlWithVerifyFullAndARootCertificate(Port port) throws Exception {
        String url = "postgresql://" + ROLE.name() + ":" + ROLE.password() + "@localhost:" + tls().port()
                + "/postgres?sslmode=verify-full&sslrootcert="
                + URLEncoder.encode(tls().rootCert().toString(), StandardCharsets.UTF_8);
        TenantConfig tenant = UpstreamUrl.toConfig(url).tenants().getFirst();
        assertThat(tenant.upstream().tls().mode()).isEqualTo(SslMode.VERIFY_FULL);
        try (PgmuxHarness pgmux = PgmuxHarness.start(PgmuxConfig.ephemeral(tenant).withDefaultTenant(tenant.id()))) {
            Properties props = new Properties();
            props.setProperty("user", ROLE.name()); // the URL's tenant serves plain user names
            props.setProperty("password", ROLE.password());
            props.setProperty("sslmode", "disable");
            try (Connection c = java.sql.DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), props)) {
                assertThat(text(c, SSL_IN_USE)).isEqualTo("true");
            }
        }
    }

    static Stream<Arguments> cancelModes() {
        List<Arguments> cases = new ArrayList<>();
        for (Port port : Port.values()) {
            cases.add(Arguments.of(port, UpstreamTls.of(SslMode.REQUIRE))); // the CancelRequest over TLS
            cases.add(Arguments.of(port, UpstreamTls.of(SslMode.ALLOW))); // in plaintext, which Postgres takes
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cancelModes")
    void aQueryTimeoutCancelsTheStatementUpstream(Port port, UpstreamTls settings) throws Exception {
        try (PgmuxHarness pgmux = start("127.0.0.1", settings); Connection c = port.connect(pgmux, ROLE);
             Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            long start = System.nanoTime();
            SQLException e = sqlError(() -> st.executeQuery("SELECT pg_sleep(30)").close());
            assertThat(e.getSQLState()).as("%s", e.getMessage()).isEqualTo("57014");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
            st.setQueryTimeout(0);
            assertThat(text(c, "SELECT 'usable'")).isEqualTo("usable");
        }
    }

    @Test
    void aReloadThatChangesTheSslmodeRetiresTheServersAndOneThatDoesNotKeepsThem() throws Exception {
        UnaryOperator<TenantConfig> sized = t -> t.withPoolSize(1).withConnectTimeout(CONNECT_TIMEOUT);
        PgmuxConfig require = PgmuxConfig.ephemeral(sized.apply(tls().tenant("localhost", tls().trusting(SslMode.REQUIRE))));
        require = require.withListen(require.listen().withTransport(PgmuxHarness.testTransport()));
        try (PgmuxHarness pgmux = PgmuxHarness.start(require)) {
            int first = pidThrough(pgmux);
            pgmux.awaitIdle(ROLE, 1, Wait.DEFAULT);

            assertThat(pgmux.server().reload(require)).isInstanceOf(ReloadResult.Applied.class);
            assertThat(pidThrough(pgmux)).as("the server after a reload that changed nothing").isEqualTo(first);
            pgmux.awaitIdle(ROLE, 1, Wait.DEFAULT);

            ReloadResult changed = pgmux.server().reload(require.withTenants(List.of(
                    sized.apply(tls().tenant("localhost", tls().trusting(SslMode.VERIFY_FULL))))));
            assertThat(changed).isInstanceOf(ReloadResult.Applied.class);
            assertThat(((ReloadResult.Applied) changed).changes()).anySatisfy(line -> assertThat(line).contains("sslmode"));
            Wait.until("the require server closed upstream", () -> !backendAlive(first));
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                assertThat(Long.parseLong(text(c, "SELECT pg_backend_pid()"))).as("the server after sslmode changed")
                        .isNotEqualTo(first);
                assertThat(text(c, SSL_IN_USE)).isEqualTo("true");
            }
        }
    }

    /**
     * No user listed: the client's user is looked up with the auth_query over the TLS the tenant's pools use, and
     * its server logs in by SCRAM passthrough over TLS too.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void authQueryLookupsAndPassthroughGoOverTheTenantsTls(Port port) throws Exception {
        TestRole superuser = TestPostgres.get().superuserRole();
        TenantConfig tenant = tls().tenant("localhost", tls().trusting(SslMode.VERIFY_FULL)).withUsers(List.of())
                .withAuthQuery(AuthQueryConfig.of(new UserConfig(superuser.name(), superuser.password()),
                        AuthQueryConfig.DEFAULT_QUERY));
        try (PgmuxHarness pgmux = start(tenant); Connection c = port.connect(pgmux, ROLE)) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(ROLE.name());
            assertThat(text(c, SSL_IN_USE)).isEqualTo("true");
            SQLException wrong = sqlError(() -> port.connect(pgmux, new TestRole(ROLE.name(), "not-the-password")).close());
            assertThat(wrong.getSQLState()).isEqualTo("28P01");
        }
    }

    @Test
    void aFailingUpstreamIsLoggedOnceNotOncePerClient() {
        try (LogCapture log = LogCapture.of(UpstreamOutages.class.getName());
             PgmuxHarness pgmux = start("127.0.0.1", tls().trusting(SslMode.VERIFY_FULL))) {
            for (int i = 0; i < 4; i++) {
                sqlError(() -> Port.SESSION.connect(pgmux, ROLE).close());
            }
            List<ILoggingEvent> warnings = log.events(e -> e.getFormattedMessage().contains("does not match the host name")
                    && e.getLevel() == ch.qos.logback.classic.Level.WARN);
            assertThat(warnings).as(log.text()).hasSize(1);
            assertThat(warnings.getFirst().getFormattedMessage()).contains("tenant " + PgmuxHarness.TENANT)
                    .doesNotContain(ROLE.password());
        }
    }

    private static int pidThrough(PgmuxHarness pgmux) throws SQLException {
        try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
            return (int) Long.parseLong(text(c, "SELECT pg_backend_pid()"));
        }
    }

    private static boolean backendAlive(int pid) throws SQLException {
        try (Connection c = tls().postgres().superuser();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }
}
