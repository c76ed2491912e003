package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a reload reports as changed, and what it says needs a restart. */
class ConfigChangesTest {

    private static final TenantConfig ACME =
            TenantConfig.of("acme", UpstreamConfig.of("db1", 5432), new UserConfig("app", "secret-one"));
    private static final TenantConfig SHOP =
            TenantConfig.of("shop", UpstreamConfig.of("db2", 5432), new UserConfig("app", "pw"));

    @Test
    void theSameConfigurationChangesNothing() {
        PgmuxConfig config = PgmuxConfig.of(ACME, SHOP);

        ConfigChanges changes = ConfigChanges.between(config, PgmuxConfig.of(ACME, SHOP));

        assertThat(changes.isEmpty()).isTrue();
        assertThat(changes.changes()).isEmpty();
        assertThat(changes.needRestart()).isEmpty();
    }

    @Test
    void tenantSettingsAreNamedByTenantIdWithBothValues() {
        TenantConfig changed = ACME.withPoolSize(7).withCheckoutTimeout(Duration.ofMillis(1500))
                .withUpstream(new UpstreamConfig("db9", 6432, "postgres"))
                .withPreparedStatements(PreparedStatementsConfig.defaults().withMode(PreparedStatementMode.STRIP)
                        .withCacheUnnamed(true).withUnnamedPlans(UnnamedStatementPlans.AUTO))
                .withDatabases(List.of("postgres", "reports"));

        ConfigChanges changes = ConfigChanges.between(PgmuxConfig.of(ACME), PgmuxConfig.of(changed));

        assertThat(changes.changes()).containsExactly(
                "tenants[acme].upstream.host: db1 -> db9",
                "tenants[acme].upstream.port: 5432 -> 6432",
                "tenants[acme].pool_size: 20 -> 7",
                "tenants[acme].checkout_timeout: 10s -> 1500ms",
                "tenants[acme].prepared_statements: rewrite -> strip",
                "tenants[acme].cache_unnamed_statements: false -> true",
                "tenants[acme].unnamed_statement_plans: custom -> auto",
                "tenants[acme].databases: [postgres] -> [postgres, reports]");
        assertThat(changes.needRestart()).isEmpty();
    }

    @Test
    void tenantsAndUsersAddedAndRemovedAndAPasswordChangedWithoutShowingIt() {
        TenantConfig acme = ACME.withUsers(List.of(new UserConfig("app", "secret-two"), new UserConfig("ops", "x")));
        TenantConfig blog = TenantConfig.of("blog", UpstreamConfig.of("db3", 5432), new UserConfig("app", "pw"));

        ConfigChanges changes = ConfigChanges.between(PgmuxConfig.of(ACME, SHOP), PgmuxConfig.of(acme, blog));

        assertThat(changes.changes()).containsExactly(
                "tenants[shop]: removed",
                "tenants[acme].users[app].password: changed",
                "tenants[acme].users[ops]: added",
                "tenants[blog]: added");
        assertThat(String.join("\n", changes.changes())).doesNotContain("secret");
    }

    @Test
    void listenersNeedARestartWhileLimitsTlsAndTheDefaultTenantDoNot() {
        PgmuxConfig running = PgmuxConfig.of(ACME);
        PgmuxConfig next = running.withListen(running.listen().withTransactionPort(7000).withIoThreads(4)
                        .withReusePort(true).withProxyProtocol(ProxyProtocolConfig.of(ProxyProtocolConfig.Mode.REQUIRED)
                                .withNetworks(List.of("10.0.0.0/8"))))
                .withLimits(running.limits().withLoginTimeout(Duration.ofSeconds(3)).withShutdownTimeout(Duration.ofMinutes(2)))
                .withTls(TlsConfig.selfSigned(TlsMode.ALLOWED))
                .withDefaultTenant("acme");

        ConfigChanges changes = ConfigChanges.between(running, next);

        assertThat(changes.needRestart()).containsExactly(
                "listen.transaction_port: 6543 -> 7000 (needs a restart; the running value is kept)",
                "listen.io_threads: 0 -> 4 (needs a restart; the running value is kept)",
                "listen.reuse_port: false -> true (needs a restart; the running value is kept)",
                "listen.proxy_protocol: off -> required (needs a restart; the running value is kept)",
                "listen.proxy_protocol_networks: [] -> [10.0.0.0/8] (needs a restart; the running value is kept)");
        assertThat(changes.changes()).containsExactly(
                "tls.mode: disabled -> allowed",
                "tls.self_signed: false -> true",
                "limits.login_timeout: 10s -> 3s",
                "limits.shutdown_timeout: 30s -> 2m",
                "default_tenant: none -> acme");
    }
}
