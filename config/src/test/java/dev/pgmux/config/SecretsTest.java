package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Passwords never reach a log: not through toString, not through any error message. */
class SecretsTest {

    private static final String SECRET = "Tr0ub4dor-3";

    @Test
    void userToStringHidesThePassword() {
        UserConfig user = new UserConfig("app", SECRET);

        assertThat(user.toString()).isEqualTo("UserConfig[name=app, password=***]").doesNotContain(SECRET);
    }

    @Test
    void wholeConfigToStringHidesPasswords() {
        PgmuxConfig config = Yamls.parse(MINIMAL.replace("password: pw", "password: " + SECRET));

        assertThat(config.toString()).contains("password=***").doesNotContain(SECRET);
    }

    /** Broken files whose passwords sit near, or inside, the problem. */
    static Stream<String> brokenFiles() {
        String base = MINIMAL.replace("password: pw", "password: " + SECRET);
        return Stream.of(
                base + "        password: " + SECRET + "\n",                         // duplicate key
                base.replace("password: " + SECRET, "password: \"" + SECRET),      // unclosed quote
                base.replace("password: " + SECRET, "password: " + SECRET + ": x"), // mapping value in a scalar
                base.replace("password: " + SECRET, "password: [" + SECRET),       // unclosed flow sequence
                base.replace("password: " + SECRET, "password: !!int " + SECRET),  // tag that does not fit
                base.replace("password: " + SECRET, "password: !!timestamp " + SECRET),
                base.replace("password: " + SECRET, "password: !!float " + SECRET),
                base.replace("password: " + SECRET, "password: !!binary " + SECRET + "!"),
                base.replace("password: " + SECRET, "password: [" + SECRET + "]"), // wrong type
                base.replace("password: " + SECRET, "password: {" + SECRET + ": 1}"),
                base.replace("password: " + SECRET, "password: " + SECRET + "${"), // unclosed reference
                base.replace("password: " + SECRET, "password: " + SECRET + "${1x}"),
                base.replace("password: " + SECRET, "password: " + SECRET + "${UNSET}"),
                base.replace("password: " + SECRET, "passwd: " + SECRET),           // unknown key
                base.replace("name: app", "name: ''"),
                base.replace("id: a", "id: a.b"),
                base + "  - id: a\n    upstream: {host: db}\n    users: [{name: app, password: " + SECRET + "}]\n");
    }

    @ParameterizedTest
    @MethodSource("brokenFiles")
    void noErrorMessageContainsThePassword(String yaml) {
        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.parse(yaml, Map.of()))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET))
                .satisfies(e -> assertThat(e.problems()).noneMatch(p -> p.contains(SECRET)))
                .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
    }

    @Test
    void aPasswordFromTheEnvironmentIsNotShownEither() {
        String yaml = MINIMAL.replace("password: pw", "password: ${DB_PASSWORD}").replace("host: db", "host: ''");

        assertThatExceptionOfType(ConfigException.class)
                .isThrownBy(() -> ConfigLoader.parse(yaml, Map.of("DB_PASSWORD", SECRET)))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
    }
}
