package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.socket;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.AccessConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.PoolMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.util.PSQLException;

/**
 * A tenant's own access rules, on both ports: the client networks it accepts (allow_list), whether it requires
 * TLS whatever the listener says (require_tls), and a user's pool_mode that overrides the port's.
 */
@Timeout(60)
class AccessRulesTest {

    /** A second tenant with the same users and no rules of its own: the rules of one tenant are not another's. */
    private static final String OPEN = "open";

    private static PgmuxHarness start(TlsMode listenerTls, UnaryOperator<TenantConfig> rules) {
        TenantConfig plain = PgmuxHarness.defaultTenant();
        TenantConfig open = new TenantConfig(OPEN, plain.upstream(), plain.poolSize(), plain.minIdle(), plain.maxClients(),
                plain.checkoutTimeout(), plain.connectTimeout(), plain.idleTimeout(), plain.maxLifetime(),
                plain.serverResetQuery(), plain.users(), plain.preparedStatements(), plain.databases(),
                plain.authQuery(), AccessConfig.open());
        PgmuxConfig config = PgmuxConfig.ephemeral(plain, open);
        if (listenerTls != TlsMode.DISABLED) {
            config = config.withTls(TlsConfig.selfSigned(listenerTls));
        }
        // The rules last: require_tls is checked against the listener's TLS.
        return PgmuxHarness.start(config.withTenants(List.of(rules.apply(plain), open)));
    }

    private static Connection connect(PgmuxHarness pgmux, Port port, String tenant, String sslmode) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", TestPostgres.SCRAM.name() + "." + tenant);
        props.setProperty("sslmode", sslmode);
        return port.connect(pgmux, TestPostgres.SCRAM, props);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientOutsideTheAllowListIsRefusedWithSupavisorsText(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.DISABLED,
                t -> t.withAccess(AccessConfig.open().withAllowList(List.of("10.0.0.0/8", "fd00::/8"))))) {
            PSQLException refused = serverError(() -> connect(pgmux, port, PgmuxHarness.TENANT, "disable").close());
            assertThat(refused.getSQLState()).isEqualTo("28000");
            assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("Address not in tenant allow_list: 127.0.0.1");

            assertThat(pgmux.pool(TestPostgres.SCRAM)).as("a refused client opens no server").isEmpty();
            assertThat(pgmux.tenant().clients()).as("the rules are checked before a client slot is taken").isZero();

            try (Connection other = connect(pgmux, port, OPEN, "disable")) {
                assertThat(text(other, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aClientInsideTheAllowListGetsIn(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.DISABLED,
                t -> t.withAccess(AccessConfig.open().withAllowList(List.of("10.0.0.0/8", "127.0.0.0/8"))));
             Connection c = connect(pgmux, port, PgmuxHarness.TENANT, "disable")) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aTenantThatRequiresTlsRefusesPlaintextWhereTheListenerAllowsIt(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.ALLOWED, t -> t.withAccess(AccessConfig.open().withRequireTls(true)))) {
            PSQLException refused = serverError(() -> connect(pgmux, port, PgmuxHarness.TENANT, "disable").close());
            assertThat(refused.getSQLState()).isEqualTo("28000");
            assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("SSL connection is required: connect with sslmode=require");

            try (Connection tls = connect(pgmux, port, PgmuxHarness.TENANT, "require")) {
                assertThat(socket(tls)).isInstanceOf(SSLSocket.class);
                assertThat(text(tls, "SELECT 1")).isEqualTo("1");
            }
            try (Connection plain = connect(pgmux, port, OPEN, "disable")) {
                assertThat(text(plain, "SELECT 1")).as("the other tenant follows the listener").isEqualTo("1");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aTenantMayAcceptPlaintextWhereTheListenerRequiresTls(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.REQUIRED, t -> t.withAccess(AccessConfig.open().withRequireTls(false)))) {
            try (Connection plain = connect(pgmux, port, PgmuxHarness.TENANT, "disable")) {
                assertThat(socket(plain)).isNotInstanceOf(SSLSocket.class);
                assertThat(text(plain, "SELECT 1")).isEqualTo("1");
            }
            PSQLException refused = serverError(() -> connect(pgmux, port, OPEN, "disable").close());
            assertThat(refused.getSQLState()).isEqualTo("28000");
            assertThat(refused.getServerErrorMessage().getMessage()).contains("SSL connection is required");
        }
    }

    /**
     * One server in the pool: a user pooled per session keeps it while idle, so a second client waits and times
     * out in Session mode whichever port both use; pooled per transaction, both are served.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void aUsersPoolModeOverridesThePort(Port port) throws Exception {
        for (PoolMode mode : PoolMode.values()) {
            try (PgmuxHarness pgmux = start(TlsMode.DISABLED, t -> t.withPoolSize(1)
                    .withCheckoutTimeout(Duration.ofMillis(500))
                    .withUsers(t.users().stream()
                            .map(u -> u.name().equals(TestPostgres.SCRAM.name()) ? u.withPoolMode(mode) : u)
                            .toList()));
                 Connection first = connect(pgmux, port, PgmuxHarness.TENANT, "disable")) {
                assertThat(text(first, "SELECT 1")).isEqualTo("1");
                if (mode == PoolMode.SESSION) {
                    PSQLException waited = serverError(() -> text(connect(pgmux, port, PgmuxHarness.TENANT, "disable"), "SELECT 1"));
                    assertThat(waited.getSQLState()).isEqualTo("53300");
                    assertThat(waited.getServerErrorMessage().getMessage()).endsWith("in Session mode");
                } else {
                    try (Connection second = connect(pgmux, port, PgmuxHarness.TENANT, "disable")) {
                        assertThat(text(second, "SELECT 2")).isEqualTo("2");
                        assertThat(text(first, "SELECT 3")).isEqualTo("3");
                    }
                }
            }
        }
    }
}
