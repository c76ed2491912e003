package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FullExampleTest {

    @TempDir
    Path tlsDir;

    @Test
    void everyKeyOfTheFullExampleIsRead() throws IOException, URISyntaxException {
        Files.writeString(tlsDir.resolve("server.crt"), "-----BEGIN CERTIFICATE-----\n");
        Files.writeString(tlsDir.resolve("server.key"), "-----BEGIN PRIVATE KEY-----\n");
        Path file = Path.of(getClass().getResource("/full-example.yaml").toURI());

        PgmuxConfig config = ConfigLoader.load(file, Map.of("TLS_DIR", tlsDir.toString(), "APP_PASSWORD", "app-secret"));

        assertThat(config.listen()).isEqualTo(new ListenConfig("0.0.0.0", 7543, 7542, 7544));
        assertThat(config.tls()).isEqualTo(new TlsConfig(TlsMode.REQUIRED,
                Optional.of(tlsDir.resolve("server.crt")), Optional.of(tlsDir.resolve("server.key")), false));
        assertThat(config.limits()).isEqualTo(new LimitsConfig(8 * 1024 * 1024, 20 * 1024, Duration.ofSeconds(15), LimitsConfig.Keepalive.DEFAULT));
        assertThat(config.log()).isEqualTo(new LogConfig(LogFormat.JSON, Optional.of(LogLevel.WARN), false, true,
                Duration.ofSeconds(30), Duration.ofMinutes(1)));
        assertThat(config.defaultTenant()).contains("myproject");
        assertThat(config.tenants()).extracting(TenantConfig::id).containsExactly("myproject", "other-project");

        TenantConfig first = config.tenant("myproject").orElseThrow();
        assertThat(first.upstream()).isEqualTo(new UpstreamConfig("db.internal", 5433, "app"));
        assertThat(first.poolSize()).isEqualTo(30);
        assertThat(first.minIdle()).isEqualTo(2);
        assertThat(first.maxClients()).isEqualTo(500);
        assertThat(first.checkoutTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(first.connectTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(first.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(first.maxLifetime()).isEqualTo(Duration.ofHours(2));
        assertThat(first.serverResetQuery()).isEqualTo("RESET ALL");
        assertThat(first.preparedStatements())
                .isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.STRIP, 200, 5000));
        assertThat(first.users()).containsExactly(
                new UserConfig("app", "app-secret"), new UserConfig("reporting", "reporting-dev"));

        TenantConfig second = config.tenant("other-project").orElseThrow();
        assertThat(second.upstream()).isEqualTo(new UpstreamConfig("10.0.0.7", 5432, "postgres"));
        assertThat(second.poolSize()).isEqualTo(TenantConfig.DEFAULT_POOL_SIZE);
        assertThat(second.idleTimeout()).isZero();
        assertThat(second.maxLifetime()).isZero();
        assertThat(second.serverResetQuery()).isEmpty();
        assertThat(second.preparedStatements()).isEqualTo(new PreparedStatementsConfig(PreparedStatementMode.PASSTHROUGH,
                PreparedStatementsConfig.DEFAULT_MAX_PER_SERVER, PreparedStatementsConfig.DEFAULT_MAX_PER_CLIENT));
        assertThat(second.user("postgres")).contains(new UserConfig("postgres", "0123"));
    }
}
