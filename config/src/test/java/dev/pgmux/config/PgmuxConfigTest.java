package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Configurations built in code, as the proxy's tests build them. */
class PgmuxConfigTest {

    private static final TenantConfig TENANT =
            TenantConfig.of("acme", UpstreamConfig.of("localhost", 5432), new UserConfig("app", "pw"));

    @Test
    void ephemeralListensOnFreePorts() {
        PgmuxConfig config = PgmuxConfig.ephemeral(TENANT);

        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 0, 0, 0));
        assertThat(config.tenants()).containsExactly(TENANT);
        assertThat(config.defaultTenant()).isEmpty();
    }

    @Test
    void findsTenantsAndUsersByExactName() {
        TenantConfig tenant = TENANT.withUsers(List.of(new UserConfig("app", "pw"), new UserConfig("ops", "pw2")));
        PgmuxConfig config = PgmuxConfig.of(tenant, TenantConfig.of("b", UpstreamConfig.of("h", 1), new UserConfig("u", "p")));

        assertThat(config.tenant("b")).map(TenantConfig::id).contains("b");
        assertThat(config.tenant("ACME")).isEmpty();
        assertThat(config.tenant("acme").orElseThrow().user("ops")).contains(new UserConfig("ops", "pw2"));
        assertThat(config.tenant("acme").orElseThrow().user("nobody")).isEmpty();
    }

    @Test
    void withMethodsChangeOneSettingEach() {
        TenantConfig tenant = TENANT.withPoolSize(3).withMinIdle(1).withMaxClients(7)
                .withCheckoutTimeout(Duration.ofMillis(200)).withConnectTimeout(Duration.ofSeconds(1))
                .withIdleTimeout(Duration.ZERO).withMaxLifetime(Duration.ofMinutes(30))
                .withServerResetQuery("").withUpstream(new UpstreamConfig("h", 6000, "d"))
                .withPreparedStatements(new PreparedStatementsConfig(PreparedStatementMode.STRIP, 10, 20));

        assertThat(tenant).isEqualTo(new TenantConfig("acme", new UpstreamConfig("h", 6000, "d"), 3, 1, 7,
                Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ZERO, Duration.ofMinutes(30), "",
                List.of(new UserConfig("app", "pw")), new PreparedStatementsConfig(PreparedStatementMode.STRIP, 10, 20), List.of(),
                java.util.Optional.empty(), AccessConfig.open()));
        assertThat(tenant.withPoolSize(4).preparedStatements()).isEqualTo(tenant.preparedStatements());
        assertThat(PreparedStatementsConfig.defaults().withMode(PreparedStatementMode.PASSTHROUGH).withMaxPerServer(1)
                .withMaxPerClient(2))
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.PASSTHROUGH, 1, 2));
        assertThat(LimitsConfig.defaults().withMaxFrameSize(1024).withMaxStartupPacketSize(512)
                .withLoginTimeout(Duration.ofSeconds(1)))
                .isEqualTo(new LimitsConfig(1024, 512, Duration.ofSeconds(1), LimitsConfig.Keepalive.DEFAULT));
        assertThat(ListenConfig.ephemeral().withHost("::1").withTransactionPort(1).withSessionPort(2).withAdminPort(3))
                .isEqualTo(new ListenConfig("::1", 1, 2, 3));
    }

    @Test
    void theSameRulesApplyToConfigsBuiltInCode() {
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.ephemeral(TENANT.withPoolSize(0), TENANT))
                .satisfies(e -> assertThat(e.problems()).containsExactly(
                        "tenants[0].pool_size: must be > 0, got 0",
                        "tenants[1].id: duplicate tenant id \"acme\""));
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.of(TENANT).withDefaultTenant("other"))
                .withMessageContaining("default_tenant: no tenant with id \"other\"");
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.of(TENANT)
                        .withTls(new TlsConfig(TlsMode.REQUIRED, Optional.empty(), Optional.empty(), false)))
                .withMessageContaining("tls.cert_file: required when tls.mode is required");
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.of(TENANT).withLimits(LimitsConfig.defaults().withMaxFrameSize(Integer.MAX_VALUE)))
                .withMessageContaining("limits.max_frame_size: must be at most 1GB, got 2147483647");
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.of(TENANT.withPreparedStatements(
                        new PreparedStatementsConfig(PreparedStatementMode.REWRITE, 0, -1))))
                .satisfies(e -> assertThat(e.problems()).containsExactly(
                        "tenants[0].max_prepared_statements: must be > 0, got 0",
                        "tenants[0].max_client_prepared_statements: must be > 0, got -1"));
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> PgmuxConfig.of(List.of()))
                .withMessageContaining("tenants: at least one tenant is required");
    }

    @Test
    void selfSignedTlsIsValidWithoutFiles() {
        assertThat(PgmuxConfig.ephemeral(TENANT).withTls(TlsConfig.selfSigned(TlsMode.REQUIRED)).tls().enabled()).isTrue();
    }

    @Test
    void listsAreCopiedSoTheConfigCannotChangeLater() {
        List<UserConfig> users = new ArrayList<>(List.of(new UserConfig("app", "pw")));
        TenantConfig tenant = TenantConfig.of("acme", UpstreamConfig.of("h", 1), users);
        users.add(new UserConfig("late", "pw"));

        assertThat(tenant.users()).hasSize(1);
        assertThat(tenant.users()).isUnmodifiable();
    }
}
