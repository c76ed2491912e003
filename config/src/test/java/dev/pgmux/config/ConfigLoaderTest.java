package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.parse;
import static dev.pgmux.config.Yamls.problems;
import static dev.pgmux.config.Yamls.tenantWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void defaultsApplyToEverythingNotWritten() {
        PgmuxConfig config = parse(MINIMAL);

        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 6543, 6542, 6544));
        assertThat(config.tls()).isEqualTo(TlsConfig.disabled());
        assertThat(config.limits()).isEqualTo(new LimitsConfig(16 * 1024 * 1024, 10_000, Duration.ofSeconds(10), LimitsConfig.Keepalive.DEFAULT));
        assertThat(config.defaultTenant()).isEmpty();
        TenantConfig tenant = config.tenants().getFirst();
        assertThat(tenant).isEqualTo(new TenantConfig("a", new UpstreamConfig("db", 5432, "postgres"), 20, 0, 1000,
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofHours(1),
                "DISCARD ALL", java.util.List.of(new UserConfig("app", "pw")),
                new PreparedStatementsConfig(PreparedStatementMode.REWRITE, 500, 10_000), java.util.List.of(),
                java.util.Optional.empty(), AccessConfig.open()));
        assertThat(tenant).isEqualTo(TenantConfig.of("a", UpstreamConfig.of("db", 5432), new UserConfig("app", "pw")));
    }

    @Test
    void databasesDefaultToTheUpstreamsOwn() {
        assertThat(parse(MINIMAL).tenants().getFirst().allowedDatabases()).containsExactly("postgres");
        TenantConfig listed = parse(tenantWith("databases: [app, 'analytics']")).tenants().getFirst();
        assertThat(listed.databases()).containsExactly("app", "analytics");
        assertThat(listed.allowedDatabases()).containsExactly("app", "analytics");
    }

    @Test
    void nullSectionsAndValuesMeanDefaults() {
        PgmuxConfig config = parse("listen:\ntls:\nlimits: ~\n" + tenantWith("pool_size:"));

        assertThat(config.listen()).isEqualTo(ListenConfig.defaults());
        assertThat(config.tls()).isEqualTo(TlsConfig.disabled());
        assertThat(config.limits()).isEqualTo(LimitsConfig.defaults());
        assertThat(config.tenants().getFirst().poolSize()).isEqualTo(TenantConfig.DEFAULT_POOL_SIZE);
    }

    @Test
    void numbersMayBeWrittenAsStrings() {
        PgmuxConfig config = parse("listen: {transaction_port: \"7000\", admin_port: ' 7001 '}\n"
                + tenantWith("pool_size: '5'", "idle_timeout: '250'"));

        assertThat(config.listen().transactionPort()).isEqualTo(7000);
        assertThat(config.listen().adminPort()).isEqualTo(7001);
        assertThat(config.tenants().getFirst().poolSize()).isEqualTo(5);
        assertThat(config.tenants().getFirst().idleTimeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void tlsModeIsCaseInsensitiveAndSelfSignedNeedsNoFiles() {
        PgmuxConfig config = parse("tls: {mode: Allowed, self_signed: 'true'}\n" + MINIMAL);

        assertThat(config.tls()).isEqualTo(TlsConfig.selfSigned(TlsMode.ALLOWED));
    }

    @Test
    void tlsFilesAreReadWhenTheyExist() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "cert");
        Path key = Files.writeString(dir.resolve("key.pem"), "key");

        PgmuxConfig config = parse("tls:\n  mode: required\n  cert_file: " + cert + "\n  key_file: " + key + "\n" + MINIMAL);

        assertThat(config.tls()).isEqualTo(TlsConfig.pem(TlsMode.REQUIRED, cert, key));
    }

    @Test
    void defaultTenantIsKept() {
        assertThat(parse("default_tenant: a\n" + MINIMAL).defaultTenant()).contains("a");
    }

    @Test
    void yaml11WordsAndNumberFormsStayText() {
        // Under plain YAML 1.1 these would become false, 83, 750 and 1000.0.
        PgmuxConfig config = parse("""
                tenants:
                  - id: a
                    upstream: {host: db}
                    server_reset_query: off
                    users:
                      - {name: u1, password: 0123}
                      - {name: u2, password: 12:30}
                      - {name: u3, password: 1e3}
                      - {name: u4, password: 12345}
                """);

        TenantConfig tenant = config.tenants().getFirst();
        assertThat(tenant.serverResetQuery()).isEqualTo("off");
        assertThat(tenant.users()).extracting(UserConfig::password).containsExactly("0123", "12:30", "1e3", "12345");
    }

    @Test
    void anchorsAndMergeKeysShareSettingsBetweenTenants() {
        PgmuxConfig config = parse("""
                tenants:
                  - &base
                    id: a
                    upstream: {host: db}
                    pool_size: 7
                    users: [{name: app, password: pw}]
                  - <<: *base
                    id: b
                """);

        assertThat(config.tenant("b").orElseThrow().poolSize()).isEqualTo(7);
        assertThat(config.tenant("b").orElseThrow().upstream().host()).isEqualTo("db");
    }

    @Test
    void loadsAFile() throws IOException {
        Path file = Files.writeString(dir.resolve("pgmux.yaml"), MINIMAL);

        assertThat(ConfigLoader.load(file).tenants()).hasSize(1);
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("nowhere.yaml");

        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.load(file))
                .satisfies(e -> assertThat(e.problems()).containsExactly(file + ": file not found"))
                .withMessageContaining(file.toString());
    }

    @Test
    void aDirectoryIsNotAFile() {
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.load(dir))
                .satisfies(e -> assertThat(e.problems().getFirst()).startsWith(dir + ": cannot be read"));
    }

    @Test
    void aFileThatIsNotUtf8IsRefused() throws IOException {
        Path file = Files.write(dir.resolve("latin1.yaml"), new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});

        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.load(file))
                .satisfies(e -> assertThat(e.problems()).containsExactly(file + ": not valid UTF-8"));
    }

    @Test
    void problemsInAFileNameTheFileInTheMessage() throws IOException {
        Path file = Files.writeString(dir.resolve("pgmux.yaml"), tenantWith("pool_size: 0"));

        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.load(file, Map.of()))
                .withMessage("invalid configuration in " + file + " (1 problem):\n"
                        + "  tenants[0].pool_size: must be > 0, got 0");
    }

    @Test
    void anEmptyDocumentIsAnError() {
        assertThat(problems("")).containsExactly("the configuration is empty (at least one tenant is required)");
        assertThat(problems("# only a comment\n")).containsExactly(
                "the configuration is empty (at least one tenant is required)");
    }

    @Test
    void aDocumentThatIsNotAMappingIsAnError() {
        assertThat(problems("- a\n- b\n")).containsExactly(
                "the configuration must be a mapping of keys to values, got a list");
    }

    @Test
    void aSyntaxErrorGivesLineAndColumn() {
        assertThat(problems("listen:\n  host: [127.0.0.1\n" + MINIMAL)).containsExactly(
                "line 3, column 8: expected ',' or ']', but got : (while parsing a flow sequence at line 2, column 9)");
        assertThat(problems("listen:\n  host: \"unclosed\n"))
                .singleElement().asString()
                .isEqualTo("line 3, column 1: found unexpected end of stream (while scanning a quoted scalar at line 2, column 9)");
    }

    @Test
    void duplicateKeysAreRefused() {
        assertThat(problems("listen:\n  admin_port: 1\n  admin_port: 2\n" + MINIMAL)).containsExactly(
                "line 3, column 3: found duplicate key admin_port (while constructing a mapping at line 2, column 3)");
        assertThat(problems(MINIMAL + MINIMAL)).singleElement().asString()
                .contains("found duplicate key tenants");
    }

    @Test
    void severalDocumentsAreRefused() {
        assertThat(problems(MINIMAL + "---\n" + MINIMAL)).singleElement().asString()
                .contains("expected a single document");
    }

    @Test
    void badlyTaggedValuesAreRefused() {
        assertThat(problems(tenantWith("pool_size: !!int many"))).containsExactly(
                "not valid YAML: a value does not match its explicit tag (pgmux needs no tags such as !!int)");
        assertThat(problems(tenantWith("pool_size: !custom x"))).singleElement().asString()
                .startsWith("line 8, column 16: could not determine a constructor for the tag !custom");
        assertThat(problems(tenantWith("pool_size: !!java.lang.Object x"))).containsExactly(
                "line 8, column 16: Global tag is not allowed: tag:yaml.org,2002:java.lang.Object");
    }
}
