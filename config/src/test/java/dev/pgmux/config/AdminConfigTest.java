package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.problems;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

/** The {@code admin:} section: where the admin HTTP port binds, and the token {@code /metrics} asks for. */
class AdminConfigTest {

    @Test
    void defaultsToTheClientListenersAddressWithoutAToken() {
        PgmuxConfig config = Yamls.parse(MINIMAL);
        assertThat(config.admin().host()).isEmpty();
        assertThat(config.admin().effectiveHost(config.listen())).isEqualTo(ListenConfig.DEFAULT_HOST);
        assertThat(config.admin().metricsToken()).isEmpty();
    }

    @Test
    void readsItsOwnAddressAndATokenFromTheEnvironment() {
        PgmuxConfig config = ConfigLoader.parse("""
                listen: {host: 0.0.0.0}
                admin:
                  host: 10.0.0.5
                  metrics_token: ${METRICS_TOKEN}
                """ + MINIMAL, Map.of("METRICS_TOKEN", "tok-123"));
        assertThat(config.admin().effectiveHost(config.listen())).isEqualTo("10.0.0.5");
        assertThat(config.admin().metricsToken()).isEqualTo(Optional.of("tok-123"));
        assertThat(config.toString()).doesNotContain("tok-123");
    }

    @Test
    void refusesUnknownKeysAndTokensThatCannotGoInAHeader() {
        assertThat(problems("admin: {port: 1}\n" + MINIMAL))
                .containsExactly("admin.port: unknown key (known keys: host, metrics_token, api_jwt_secret)");
        assertThat(problems("admin: {metrics_token: 'two words'}\n" + MINIMAL))
                .containsExactly("admin.metrics_token: must be printable ASCII without blanks (it is sent in an HTTP header)");
    }
}
