package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.parse;
import static dev.pgmux.config.Yamls.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cluster section: where the metadata database is, and the tenants read from it one row at a time. */
class ClusterConfigTest {
    private static final String URL = "postgresql://meta:s3cr%40t@db.internal:6432/pgmux_meta?sslmode=require";

    @Test
    void theMetadataUrlAndRefreshIntervalAreRead() {
        PgmuxConfig config = parse("cluster: {metadata_url: '" + URL + "', refresh_interval: 5s}\n" + MINIMAL);
        assertThat(config.cluster()).isEqualTo(new ClusterConfig(Optional.of(URL), Duration.ofSeconds(5)));
        MetadataUrl url = MetadataUrl.parse(URL);
        assertThat(url).isEqualTo(new MetadataUrl("db.internal", 6432, "pgmux_meta", "meta", "s3cr@t", Optional.of("require")));
        assertThat(parse(MINIMAL).cluster()).isEqualTo(ClusterConfig.none());
    }

    @Test
    void withAMetadataDatabaseTheFileMayHaveNoTenant() {
        PgmuxConfig config = parse("cluster: {metadata_url: '" + URL + "'}\nlisten: {transaction_port: 7000}\n");
        assertThat(config.tenants()).isEmpty();
        assertThat(problems("listen: {transaction_port: 7000}\n")).containsExactly(
                "tenants: at least one tenant is required (or cluster.metadata_url, where tenants are kept)");
    }

    @Test
    void aBadUrlIsNamedWithoutItsPassword() {
        for (var bad : Map.of(
                "mysql://meta:hunter2@db/x", "must be a URL of the form postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
                "postgresql://meta:hunter2@db:99999/x", "the port must be 1..65535, got 99999",
                "postgresql://meta:hunter2@db:5432", "the database is missing (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
                "postgresql://meta:hunter2@db/x?password=y", "unknown parameter \"password\" (only sslmode is read)").entrySet()) {
            List<String> found = problems("cluster: {metadata_url: '" + bad.getKey() + "'}\n" + MINIMAL);
            assertThat(found).containsExactly("cluster.metadata_url: " + bad.getValue());
            assertThat(String.join("\n", found)).doesNotContain("hunter2");
        }
        assertThat(problems("cluster: {refresh_interval: 0s}\n" + MINIMAL))
                .containsExactly("cluster.refresh_interval: must be positive, got 0s");
        assertThat(problems("cluster: {instance_timeout: 500ms}\n" + MINIMAL))
                .containsExactly("cluster.instance_timeout: must be at least 1s, got 500ms");
        assertThat(problems("cluster: {peer_address: 'pgmux-1'}\n" + MINIMAL))
                .containsExactly("cluster.peer_address: must be HOST:PORT, got \"pgmux-1\"");
        assertThat(parse("cluster: {metadata_url: '" + URL + "', instance_id: pgmux-1, peer_address: '10.0.0.5:6543', "
                + "instance_timeout: 5s}\n" + MINIMAL).cluster()).isEqualTo(new ClusterConfig(Optional.of(URL),
                ClusterConfig.DEFAULT_REFRESH_INTERVAL, Optional.of("pgmux-1"), Optional.of("10.0.0.5:6543"), Duration.ofSeconds(5)));
        assertThat(problems("cluster: {metadata: x}\n" + MINIMAL))
                .containsExactly("cluster.metadata: unknown key (known keys: metadata_url, refresh_interval, instance_id, peer_address, instance_timeout)");
        assertThat(ClusterConfig.metadata("postgresql://meta:hunter2@db/x").toString()).doesNotContain("hunter2");
    }

    @Test
    void aMetadataRowIsATenantOfTheFileWithItsProblemsNamedByIdAndNoEnvironment() {
        String json = """
                {"id": "beta", "upstream": {"host": "db", "port": 5432}, "pool_size": 4,
                 "users": [{"name": "app", "password": "${HOME}"}]}
                """;
        TenantConfig tenant = ConfigLoader.tenant("beta", json, TlsConfig.disabled());
        assertThat(tenant.poolSize()).isEqualTo(4);
        assertThat(tenant.users().get(0).password()).as("not substituted").isEqualTo("${HOME}");

        assertThatThrownBy(() -> ConfigLoader.tenant("beta", """
                {"id": "beta", "upstream": {"host": "db"}, "pool_size": 0, "users": [], "colour": "red"}
                """, TlsConfig.disabled()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).contains(
                        "tenants[beta].colour: unknown key (known keys: " + String.join(", ", ConfigTreeReader.TENANT_KEYS) + ")",
                        "tenants[beta].pool_size: must be > 0, got 0"));
        assertThatThrownBy(() -> ConfigLoader.tenant("beta", "{\"id\": \"gamma\", \"upstream\": {\"host\": \"db\"}, "
                + "\"users\": [{\"name\": \"a\", \"password\": \"b\"}]}", TlsConfig.disabled()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .containsExactly("tenants[beta].id: must be the row's id \"beta\", got \"gamma\""));
        assertThatThrownBy(() -> ConfigLoader.tenant("beta", "[1, 2", TlsConfig.disabled()))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void aChangedMetadataUrlNeedsARestartAndIsShownWithoutItsPassword() {
        PgmuxConfig running = parse(MINIMAL);
        PgmuxConfig next = running.withCluster(ClusterConfig.metadata("postgresql://meta:hunter2@db/x"));
        assertThat(ConfigChanges.between(running, next).needRestart()).containsExactly(
                "cluster.metadata_url: (none) -> postgresql://meta:***@db:5432/x (needs a restart; the running value is kept)");
    }

    private static final String SECRET = "0123456789abcdef0123456789abcdef-api";

    @Test
    void theApiSecretIsReadFromTheEnvironmentAndNeverShown() {
        PgmuxConfig config = ConfigLoader.parse("cluster: {metadata_url: '" + URL + "'}\n"
                + "admin: {api_jwt_secret: '${API_JWT_SECRET}'}\n" + MINIMAL, Map.of("API_JWT_SECRET", SECRET));
        assertThat(config.admin().apiJwtSecret()).contains(SECRET);
        assertThat(config.toString()).doesNotContain(SECRET).contains("apiJwtSecret=(set)");
        assertThat(parse(MINIMAL).admin().apiJwtSecret()).isEmpty();
        assertThat(ConfigLoader.parse("cluster: {metadata_url: '" + URL + "'}\nadmin: {api_jwt_secret: '${API_JWT_SECRET:-}'}\n"
                + MINIMAL, Map.of()).admin().apiJwtSecret()).as("empty: the API is off").isEmpty();
    }

    @Test
    void theApiSecretNeedsTheMetadataDatabaseAndAnHs256KeysLength() {
        assertThat(problems("admin: {api_jwt_secret: '" + SECRET + "'}\n" + MINIMAL)).containsExactly(
                "admin.api_jwt_secret: needs cluster.metadata_url (the API writes tenants to the metadata database)");
        List<String> tooShort = problems("cluster: {metadata_url: '" + URL + "'}\nadmin: {api_jwt_secret: 'short-secret'}\n"
                + MINIMAL);
        assertThat(tooShort).containsExactly("admin.api_jwt_secret: must be at least 32 bytes (an HS256 key), got 12");
        assertThat(String.join("\n", tooShort)).doesNotContain("short-secret");
        assertThatThrownBy(() -> parse(MINIMAL).withAdmin(AdminConfig.defaults().withApiJwtSecret(SECRET)))
                .as("the same rules for a configuration built in code")
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "admin.api_jwt_secret: needs cluster.metadata_url (the API writes tenants to the metadata database)"));
    }

    @Test
    void aReloadMayChangeTheApiSecretAndSaysSoWithoutShowingIt() {
        PgmuxConfig running = parse(MINIMAL).withCluster(ClusterConfig.metadata(URL));
        PgmuxConfig next = running.withAdmin(AdminConfig.defaults().withApiJwtSecret(SECRET));
        ConfigChanges changes = ConfigChanges.between(running, next);
        assertThat(changes.changes()).containsExactly("admin.api_jwt_secret: set");
        assertThat(changes.needRestart()).isEmpty();
        assertThat(ConfigChanges.between(next, running.withAdmin(AdminConfig.defaults().withApiJwtSecret(SECRET + "-2")))
                .changes()).containsExactly("admin.api_jwt_secret: changed");
    }

    @Test
    void aTenantIdIsCheckedByTheTenantsRules() {
        assertThat(ConfigLoader.tenantIdProblem("shop_1-a")).isEmpty();
        assertThat(ConfigLoader.tenantIdProblem("shop.eu")).contains(
                "must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got \"shop.eu\"");
        assertThat(ConfigLoader.tenantIdProblem("")).contains("must not be empty");
    }
}
