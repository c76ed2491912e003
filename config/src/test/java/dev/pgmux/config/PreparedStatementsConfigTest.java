package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.parse;
import static dev.pgmux.config.Yamls.tenantWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The per-tenant prepared statement keys: defaults, values read, names in the file. */
class PreparedStatementsConfigTest {

    private static PreparedStatementsConfig read(String... tenantLines) {
        return parse(tenantWith(tenantLines)).tenants().getFirst().preparedStatements();
    }

    @Test
    void defaultsAreRewriteWith500PerServerAnd10000PerClient() {
        PreparedStatementsConfig defaults = PreparedStatementsConfig.defaults();

        assertThat(defaults).isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.REWRITE, 500, 10_000));
        assertThat(PreparedStatementsConfig.DEFAULT_MODE).isEqualTo(PreparedStatementMode.REWRITE);
        assertThat(PreparedStatementsConfig.DEFAULT_MAX_PER_SERVER).isEqualTo(500);
        assertThat(PreparedStatementsConfig.DEFAULT_MAX_PER_CLIENT).isEqualTo(10_000);
        assertThat(parse(MINIMAL).tenants().getFirst().preparedStatements()).isEqualTo(defaults);
        assertThat(TenantConfig.of("a", UpstreamConfig.of("db", 5432), new UserConfig("app", "pw")).preparedStatements())
                .isEqualTo(defaults);
    }

    @Test
    void unnamedStatementsAreNotCachedByDefaultAndCustomPlansWhenTheyAre() {
        PreparedStatementsConfig defaults = PreparedStatementsConfig.defaults();

        assertThat(defaults.cacheUnnamed()).isFalse();
        assertThat(defaults.cachesUnnamed()).isFalse();
        assertThat(defaults.unnamedPlans()).isEqualTo(UnnamedStatementPlans.CUSTOM);
        PreparedStatementsConfig cached = defaults.withCacheUnnamed(true);
        assertThat(cached.cachesUnnamed()).isTrue();
        // Only where named statements are shared: strip and passthrough keep no server-side statements.
        assertThat(cached.withMode(PreparedStatementMode.STRIP).cachesUnnamed()).isFalse();
        assertThat(cached.withMode(PreparedStatementMode.PASSTHROUGH).cachesUnnamed()).isFalse();
    }

    @Test
    void unnamedStatementKeysAreRead() {
        PreparedStatementsConfig read = read("cache_unnamed_statements: true", "unnamed_statement_plans: Auto");

        assertThat(read.cacheUnnamed()).isTrue();
        assertThat(read.unnamedPlans()).isEqualTo(UnnamedStatementPlans.AUTO);
        assertThat(read).isEqualTo(PreparedStatementsConfig.defaults().withCacheUnnamed(true)
                .withUnnamedPlans(UnnamedStatementPlans.AUTO));
    }

    @Test
    void badUnnamedStatementValuesNameTheKey() {
        assertThat(Yamls.problems(tenantWith("cache_unnamed_statements: sometimes"))).singleElement().asString()
                .startsWith("tenants[0].cache_unnamed_statements: ");
        assertThat(Yamls.problems(tenantWith("unnamed_statement_plans: generic"))).singleElement().asString()
                .startsWith("tenants[0].unnamed_statement_plans: ").contains("custom").contains("auto");
    }

    @Test
    void configNamesAreLowerCase() {
        assertThat(PreparedStatementMode.values()).extracting(PreparedStatementMode::configName)
                .containsExactly("rewrite", "strip", "passthrough");
    }

    @ParameterizedTest
    @EnumSource(PreparedStatementMode.class)
    void eachModeIsRead(PreparedStatementMode mode) {
        assertThat(read("prepared_statements: " + mode.configName()).mode()).isEqualTo(mode);
    }

    @ParameterizedTest
    @CsvSource({"Strip, STRIP", "' PASSTHROUGH ', PASSTHROUGH", "ReWrite, REWRITE"})
    void modeIsCaseInsensitive(String written, PreparedStatementMode mode) {
        assertThat(read("prepared_statements: \"" + written + "\"").mode()).isEqualTo(mode);
    }

    @Test
    void limitsAreRead() {
        assertThat(read("max_prepared_statements: 50", "max_client_prepared_statements: '2000'"))
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.REWRITE, 50, 2000));
    }

    @Test
    void valuesMayComeFromTheEnvironment() {
        PgmuxConfig config = ConfigLoader.parse(tenantWith(
                "prepared_statements: ${PS_MODE:-rewrite}", "max_prepared_statements: ${PS_MAX}"),
                Map.of("PS_MODE", "strip", "PS_MAX", "64"));

        assertThat(config.tenants().getFirst().preparedStatements())
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.STRIP, 64, 10_000));
    }

    @Test
    void emptyOrNullValuesMeanTheDefault() {
        assertThat(read("prepared_statements:", "max_prepared_statements: ~"))
                .isEqualTo(PreparedStatementsConfig.defaults());
    }

    @Test
    void eachTenantHasItsOwnSettings() {
        PgmuxConfig config = parse("""
                tenants:
                  - id: a
                    upstream: {host: db}
                    prepared_statements: passthrough
                    users: [{name: app, password: pw}]
                  - id: b
                    upstream: {host: db}
                    max_client_prepared_statements: 1
                    users: [{name: app, password: pw}]
                """);

        assertThat(config.tenant("a").orElseThrow().preparedStatements())
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.PASSTHROUGH, 500, 10_000));
        assertThat(config.tenant("b").orElseThrow().preparedStatements())
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.REWRITE, 500, 1));
    }

    @Test
    void withMethodsKeepTheSetting() {
        PreparedStatementsConfig strip = new PreparedStatementsConfig(PreparedStatementMode.STRIP, 7, 8);
        TenantConfig tenant = TenantConfig.of("a", UpstreamConfig.of("db", 5432), new UserConfig("app", "pw"))
                .withPreparedStatements(strip);

        assertThat(tenant.withUpstream(UpstreamConfig.of("h", 1)).withPoolSize(3).withMinIdle(1).withMaxClients(9)
                .withCheckoutTimeout(Duration.ofSeconds(1)).withConnectTimeout(Duration.ofSeconds(1))
                .withIdleTimeout(Duration.ZERO).withMaxLifetime(Duration.ZERO)
                .withServerResetQuery("").withUsers(List.of(new UserConfig("u", "p")))
                .preparedStatements()).isEqualTo(strip);
    }

    @Test
    void nothingIsNull() {
        assertThatNullPointerException().isThrownBy(() -> new PreparedStatementsConfig(null, 1, 1));
        assertThatNullPointerException().isThrownBy(() -> TenantConfig.of("a", UpstreamConfig.of("db", 5432),
                new UserConfig("app", "pw")).withPreparedStatements(null));
    }
}
