package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.parse;
import static dev.pgmux.config.Yamls.problems;
import static dev.pgmux.config.Yamls.tenantWith;
import static dev.pgmux.config.Yamls.topWith;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** admin_users and stats_users: who may use the admin console. */
class ConsoleConfigTest {

    @Test
    void noConsoleUsersByDefault() {
        assertThat(parse(MINIMAL).console()).isEqualTo(ConsoleConfig.none());
    }

    @Test
    void bothListsAreReadWithEnvironmentPasswords() {
        PgmuxConfig config = ConfigLoader.parse(topWith("""
                admin_users:
                  - name: admin
                    password: ${ADMIN_PASSWORD}
                stats_users:
                  - {name: exporter, password: stats-pw}
                  - {name: grafana, password: "${GRAFANA_PASSWORD:-g}"}
                """), Map.of("ADMIN_PASSWORD", "s3cret"));

        assertThat(config.console().adminUsers()).containsExactly(new UserConfig("admin", "s3cret"));
        assertThat(config.console().statsUsers()).containsExactly(new UserConfig("exporter", "stats-pw"),
                new UserConfig("grafana", "g"));
        assertThat(config.toString()).doesNotContain("s3cret", "stats-pw");
    }

    @Test
    void everyBrokenRuleIsReportedUnderItsPath() {
        assertThat(problems(topWith("""
                admin_users:
                  - name: admin
                    password: a
                  - name: ops.acme
                    password: b
                  - name: ''
                    password: ''
                  - {name: x, password: y, role: admin}
                stats_users:
                  - name: admin
                    password: c
                  - password: d
                """))).containsExactly(
                "admin_users[1].name: must not contain a dot (console users log in with their plain name, never as "
                        + "user.tenant), got \"ops.acme\"",
                "admin_users[2].name: must not be empty",
                "admin_users[2].password: must not be empty",
                "admin_users[3].role: unknown key (known keys: name, password)",
                "stats_users[0].name: \"admin\" is already listed at admin_users[0]",
                "stats_users[1].name: is required");
    }

    @Test
    void aConsoleUserMayBeGivenAVerifierButNotAnMd5Hash() {
        String verifier = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"
                + "bjCEEX4m8ORX6ZGSf2zLIWDSnpdvHRaa2gSUyoAZs6Q=:/AbpFGdOvPZxAdgHTYmcZ3NlR+pxcgTAyhYTXWWQYNU=";
        assertThat(ConfigLoader.parse(topWith("admin_users: [{name: admin, password: '" + verifier + "'}]"), java.util.Map.of())
                .console().adminUsers().getFirst().passwordKind()).isEqualTo(Passwords.Kind.SCRAM_SHA_256);
        assertThat(problems(topWith("admin_users: [{name: admin, password: md50123456789abcdef0123456789abcdef}]")))
                .containsExactly("admin_users[0].password: console users log in with SCRAM-SHA-256, which an MD5 hash "
                        + "cannot check: give the password or its SCRAM-SHA-256 verifier");
    }

    @Test
    void aListThatIsNotAListIsReported() {
        assertThat(problems(topWith("admin_users: admin"))).containsExactly("admin_users: must be a list, got a string");
    }

    @Test
    void theConsoleDatabasesAreReserved() {
        assertThat(problems(tenantWith("databases: [app, pgbouncer, pgmux]"))).containsExactly(
                "tenants[0].databases[1]: \"pgbouncer\" is reserved for the admin console (pgbouncer, pgmux)",
                "tenants[0].databases[2]: \"pgmux\" is reserved for the admin console (pgbouncer, pgmux)");
        assertThat(problems(MINIMAL.replace("host: db", "host: db\n      database: pgmux"))).containsExactly(
                "tenants[0].upstream.database: \"pgmux\" is reserved for the admin console (pgbouncer, pgmux)");
    }

    @Test
    void configsBuiltInCodeFollowTheSameRules() {
        PgmuxConfig config = parse(MINIMAL);
        ConsoleConfig clash = new ConsoleConfig(List.of(new UserConfig("a", "p")), List.of(new UserConfig("a", "q")));
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> config.withConsole(clash));
        assertThat(e.problems()).containsExactly("stats_users[0].name: \"a\" is already listed at admin_users[0]");
    }
}
