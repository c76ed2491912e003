package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamUrlTest {

    @Test
    void makesOneDefaultTenantFromTheUrl() {
        PgmuxConfig config = UpstreamUrl.toConfig("postgresql://app:secret@db.internal:5433/appdb");

        assertThat(config.defaultTenant()).contains("default");
        assertThat(config.tenants()).containsExactly(TenantConfig.of("default",
                new UpstreamConfig("db.internal", 5433, "appdb"), List.of(new UserConfig("app", "secret"))));
        assertThat(config.listen()).isEqualTo(ListenConfig.defaults());
        assertThat(config.tls()).isEqualTo(TlsConfig.disabled());
        assertThat(config.limits()).isEqualTo(LimitsConfig.defaults());
    }

    @Test
    void portAndDatabaseHaveDefaults() {
        assertThat(upstream("postgres://app:secret@localhost")).isEqualTo(new UpstreamConfig("localhost", 5432, "postgres"));
        assertThat(upstream("postgres://app:secret@localhost/")).isEqualTo(new UpstreamConfig("localhost", 5432, "postgres"));
        assertThat(upstream("POSTGRESQL://app:secret@localhost:6000")).isEqualTo(new UpstreamConfig("localhost", 6000, "postgres"));
    }

    @Test
    void acceptsIpv6Hosts() {
        assertThat(upstream("postgresql://app:secret@[::1]:5433/db")).isEqualTo(new UpstreamConfig("::1", 5433, "db"));
        assertThat(upstream("postgresql://app:secret@[::1]/db")).isEqualTo(new UpstreamConfig("::1", 5432, "db"));
    }

    @Test
    void decodesPercentEncodedUserPasswordAndDatabase() {
        UserConfig user = user("postgresql://my%2Euser:p%40ss%3Aw%2Ford%25+%C3%A9@host/my%20db");

        assertThat(user).isEqualTo(new UserConfig("my.user", "p@ss:w/ord%+é"));
        assertThat(upstream("postgresql://u:p@host/my%20db").database()).isEqualTo("my db");
    }

    @Test
    void toleratesUnencodedSpecialCharactersInThePassword() {
        assertThat(user("postgresql://app:p@ss:w?rd@host:5432/db")).isEqualTo(new UserConfig("app", "p@ss:w?rd"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "mysql://app:hunter2@host/db | upstream URL: must start with postgresql:// or postgres:// (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://host/db | upstream URL: user and password are missing (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://app@host/db | upstream URL: password is missing: pgmux needs it to authenticate clients and to log in upstream (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://app:@host/db | upstream URL: password is missing: pgmux needs it to authenticate clients and to log in upstream (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://:hunter2@host/db | upstream URL: user name is missing (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://app:hunter2@/db | upstream URL: host is missing (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)",
            "postgresql://app:hunter2@host:54x2/db | upstream URL: port must be a number 1..65535, got \"54x2\"",
            "postgresql://app:hunter2@host:0/db | upstream URL: port must be a number 1..65535, got \"0\"",
            "postgresql://app:hunter2@host/db?sslmode=sure | upstream URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got \"sure\"",
            "postgresql://app:hunter2@host/db?application_name=x | upstream URL: unsupported query parameter \"application_name\" (supported: sslmode, sslrootcert, sslcert, sslkey)",
            "postgresql://app:hunter2@host/db?sslmode=verify-full | tenants[0].upstream.sslrootcert: required with sslmode verify-full (a PEM file of the CAs to trust, or system for the Java runtime's)",
            "postgresql://app:hunter2%zz@host/db | upstream URL: password: bad percent-encoding (% must be followed by two hex digits; write %25 for %)",
            "postgresql://app:hunter2%C3@host/db | upstream URL: password: percent-encoding does not decode to UTF-8",
            "postgresql://app:hunter2@[::1/db | upstream URL: unclosed [ in the host"})
    void refusesBadUrlsWithoutShowingThePassword(String url, String problem) {
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> UpstreamUrl.toConfig(url))
                .satisfies(e -> assertThat(e.problems()).containsExactly(problem))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
    }

    private static UpstreamConfig upstream(String url) {
        return UpstreamUrl.toConfig(url).tenants().getFirst().upstream();
    }

    private static UserConfig user(String url) {
        return UpstreamUrl.toConfig(url).tenants().getFirst().users().getFirst();
    }
}
