package dev.pgmux.proxy.auth;

import static dev.pgmux.proxy.auth.AuthSupport.connect;
import static dev.pgmux.proxy.auth.AuthSupport.psql;
import static dev.pgmux.proxy.auth.AuthSupport.superuser;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Users looked up upstream with {@code auth_query}: PgBouncer's default query run by the superuser, and
 * Supabase's {@code pgbouncer.get_auth} function run by a {@code pgbouncer} role allowed to execute it and
 * nothing else. Found users log in by SCRAM passthrough (or MD5); unknown ones fail as a wrong password does;
 * answers are cached for their TTLs; a lookup that fails says so and is not cached. On both ports, through
 * pgjdbc and psql, and nothing secret in any log line.
 */
@Timeout(180)
class AuthQueryTest {
    /** The default tenant: PgBouncer's query, as the superuser. */
    private static final String PGBOUNCER = "pgb";
    /** Supabase's function, as role pgbouncer (configured with its password). */
    private static final String SUPABASE = "supa";
    /** Supabase's function, as role pgbouncer configured with its SCRAM verifier only. */
    private static final String VERIFIER_ONLY = "supav";
    /** Supabase's function, as a role whose password the tests change upstream. */
    private static final String FLAKY = "flaky";
    private static final TestRole AUTH_ROLE = new TestRole("pgbouncer", "pgbouncer_auth_pass");
    private static final TestRole FLAKY_ROLE = new TestRole("pgbouncer_flaky", "flaky_auth_pass");
    private static final Duration CACHE_TTL = Duration.ofSeconds(6);
    private static final Duration FAILURE_TTL = Duration.ofSeconds(3);
    private static final List<String> ROLES = new ArrayList<>();

    private static PgmuxHarness pgmux;
    private static LogCapture log;
    private static final List<String> secrets = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        AuthSupport.role(AUTH_ROLE.name(), AUTH_ROLE.password(), false);
        AuthSupport.role(FLAKY_ROLE.name(), FLAKY_ROLE.password(), false);
        // As Supabase's images create it.
        superuser("CREATE SCHEMA IF NOT EXISTS pgbouncer",
                "GRANT USAGE ON SCHEMA pgbouncer TO pgbouncer, pgbouncer_flaky",
                """
                CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename TEXT) RETURNS TABLE(username TEXT, password TEXT)
                LANGUAGE plpgsql SECURITY DEFINER AS $$
                BEGIN
                    RAISE DEBUG 'PgBouncer auth request: %', p_usename;
                    RETURN QUERY SELECT usename::TEXT, passwd::TEXT FROM pg_catalog.pg_shadow WHERE usename = p_usename;
                END;
                $$""",
                "REVOKE ALL ON FUNCTION pgbouncer.get_auth(p_usename TEXT) FROM PUBLIC",
                "GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(p_usename TEXT) TO pgbouncer, pgbouncer_flaky");
        String authVerifier = AuthSupport.stored(AUTH_ROLE.name());
        TestRole admin = TestPostgres.get().superuserRole();
        for (TestRole role : List.of(TestPostgres.SCRAM, TestPostgres.MD5, AUTH_ROLE, FLAKY_ROLE, admin)) {
            secrets.addAll(AuthSupport.secretsOf(role.password(), AuthSupport.stored(role.name())));
        }

        TestPostgres pg = TestPostgres.get();
        UpstreamConfig upstream = UpstreamConfig.of(pg.host(), pg.port());
        List<TenantConfig> tenants = List.of(
                tenant(PGBOUNCER, upstream, new UserConfig(admin.name(), admin.password()), AuthQueryConfig.DEFAULT_QUERY),
                tenant(SUPABASE, upstream, new UserConfig(AUTH_ROLE.name(), AUTH_ROLE.password()), AuthQueryConfig.SUPABASE_QUERY),
                tenant(VERIFIER_ONLY, upstream, new UserConfig(AUTH_ROLE.name(), authVerifier), AuthQueryConfig.SUPABASE_QUERY),
                tenant(FLAKY, upstream, new UserConfig(FLAKY_ROLE.name(), FLAKY_ROLE.password()), AuthQueryConfig.SUPABASE_QUERY));
        log = LogCapture.of(Logger.ROOT_LOGGER_NAME, Level.DEBUG);
        pgmux = PgmuxHarness.start(new PgmuxConfig(ListenConfig.ephemeral(), TlsConfig.disabled(), LimitsConfig.defaults(),
                Optional.of(PGBOUNCER), tenants));
    }

    private static TenantConfig tenant(String id, UpstreamConfig upstream, UserConfig authUser, String query) {
        return TenantConfig.of(id, upstream, List.of()).withPoolSize(3)
                .withAuthQuery(new AuthQueryConfig(authUser, query, CACHE_TTL, FAILURE_TTL));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (pgmux != null) {
                pgmux.close();
            }
        } finally {
            if (log != null) {
                log.close();
            }
            for (String role : ROLES) {
                AuthSupport.dropRole(role);
            }
        }
    }

    @AfterEach
    void nothingSecretWasLogged() {
        AuthSupport.assertNoSecretIn(log, secrets);
    }

    static Stream<Arguments> portsAndQueries() {
        return Stream.of(Port.values()).flatMap(port -> Stream.of(PGBOUNCER, SUPABASE).map(t -> Arguments.of(port, t)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("portsAndQueries")
    void aUserFoundUpstreamLogsInBySCRAMPassthrough(Port port, String tenant) throws Exception {
        try (Connection c = connect(pgmux, port, "scram_user." + tenant, TestPostgres.SCRAM.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo("scram_user");
        }
        AuthSupport.PsqlRun run = psql(pgmux, port, "scram_user." + tenant, TestPostgres.SCRAM.password(),
                "SELECT current_user");
        assertThat(run.output().strip()).isEqualTo("scram_user");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anMd5HashFoundUpstreamWorksBothWaysInTheDefaultTenant(Port port) throws Exception {
        try (Connection c = connect(pgmux, port, TestPostgres.MD5.name(), TestPostgres.MD5.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(TestPostgres.MD5.name());
        }
        AuthSupport.PsqlRun run = psql(pgmux, port, TestPostgres.MD5.name(), TestPostgres.MD5.password(), "SELECT current_user");
        assertThat(run.output().strip()).isEqualTo(TestPostgres.MD5.name());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("portsAndQueries")
    void aUserTheQueryDoesNotFindLooksExactlyLikeAWrongPassword(Port port, String tenant) throws Exception {
        PSQLException unknown = serverError(() -> connect(pgmux, port, "ghost." + tenant, "whatever").close());
        PSQLException wrong = serverError(() -> connect(pgmux, port, "scram_user." + tenant, "whatever").close());

        assertThat(unknown.getSQLState()).isEqualTo("28P01").isEqualTo(wrong.getSQLState());
        assertThat(unknown.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"ghost." + tenant + "\"");
        assertThat(unknown.getServerErrorMessage().getMessage().replace("ghost.", "scram_user."))
                .isEqualTo(wrong.getServerErrorMessage().getMessage());
        assertThat(unknown.getServerErrorMessage().getSeverity()).isEqualTo(wrong.getServerErrorMessage().getSeverity());
        AuthSupport.PsqlRun run = psql(pgmux, port, "ghost." + tenant, "whatever", "SELECT 1");
        assertThat(run.exit()).isNotZero();
        assertThat(run.output()).contains("password authentication failed for user \"ghost." + tenant + "\"");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("portsAndQueries")
    void aPasswordChangedUpstreamIsSeenAfterTheCacheTtlNotBefore(Port port, String tenant) throws Exception {
        String role = newRole("aq_rot_" + tenant + "_" + port.name().toLowerCase(Locale.ROOT), "rotate-one");
        try (Connection c = connect(pgmux, port, role + "." + tenant, "rotate-one")) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(role);
        }
        AuthSupport.role(role, "rotate-two", false);

        PSQLException cached = serverError(() -> connect(pgmux, port, role + "." + tenant, "rotate-two").close());
        assertThat(cached.getSQLState()).as("the new password, within the cache TTL").isEqualTo("28P01");

        Wait.until("the new password accepted after auth_cache_ttl", CACHE_TTL.plusSeconds(15), () -> {
            try (Connection c = connect(pgmux, port, role + "." + tenant, "rotate-two")) {
                return text(c, "SELECT current_user").equals(role);
            }
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("portsAndQueries")
    void aUserCreatedUpstreamIsFoundAfterTheFailureTtl(Port port, String tenant) throws Exception {
        String role = "aq_new_" + tenant + "_" + port.name().toLowerCase(Locale.ROOT);
        AuthSupport.dropRole(role);
        PSQLException before = serverError(() -> connect(pgmux, port, role + "." + tenant, "new-pass").close());
        assertThat(before.getSQLState()).isEqualTo("28P01");

        newRole(role, "new-pass");
        PSQLException cached = serverError(() -> connect(pgmux, port, role + "." + tenant, "new-pass").close());
        assertThat(cached.getSQLState()).as("not found, remembered for auth_failure_ttl").isEqualTo("28P01");

        Wait.until("the new user found after auth_failure_ttl", FAILURE_TTL.plusSeconds(15), () -> {
            try (Connection c = connect(pgmux, port, role + "." + tenant, "new-pass")) {
                return text(c, "SELECT current_user").equals(role);
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aLookupThatFailsSaysSoAndIsNotCached(Port port) throws Exception {
        String role = newRole("aq_flaky_" + port.name().toLowerCase(Locale.ROOT), "flaky-user-pass");
        String user = role + "." + FLAKY;
        AuthSupport.role(FLAKY_ROLE.name(), "not-what-pgmux-has", false);
        try {
            PSQLException refused = serverError(() -> connect(pgmux, port, user, "flaky-user-pass").close());
            assertThat(refused.getSQLState()).isEqualTo("08006");
            assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("authentication lookup failed for tenant "
                    + FLAKY + ": auth_user refused: 28P01 password authentication failed for user \"pgbouncer_flaky\"");
            AuthSupport.PsqlRun run = psql(pgmux, port, user, "flaky-user-pass", "SELECT 1");
            assertThat(run.output()).contains("authentication lookup failed for tenant " + FLAKY);
        } finally {
            AuthSupport.role(FLAKY_ROLE.name(), FLAKY_ROLE.password(), false);
        }
        // Not cached: the very next login looks up again, and succeeds.
        try (Connection c = connect(pgmux, port, user, "flaky-user-pass")) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(role);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anAuthUserKnownByItsVerifierLooksUpOnceItLoggedInAsAClient(Port port) throws Exception {
        // Within one pgmux the first run (whichever port) finds no ClientKey yet; the second finds it learnt.
        boolean keyKnown = pgmux.server().runtime().tenants().find(VERIFIER_ONLY).authUser().credentials().ready();
        if (!keyKnown) {
            PSQLException early = serverError(() -> connect(pgmux, port, "scram_user." + VERIFIER_ONLY,
                    TestPostgres.SCRAM.password()).close());
            assertThat(early.getSQLState()).isEqualTo("08006");
            assertThat(early.getServerErrorMessage().getMessage()).startsWith("authentication lookup failed for tenant "
                    + VERIFIER_ONLY + ": auth_user \"pgbouncer\" cannot log in upstream yet");
        }

        try (Connection c = connect(pgmux, port, AUTH_ROLE.name() + "." + VERIFIER_ONLY, AUTH_ROLE.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(AUTH_ROLE.name());
        }
        try (Connection c = connect(pgmux, port, "scram_user." + VERIFIER_ONLY, TestPostgres.SCRAM.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo("scram_user");
        }
    }

    private static String newRole(String name, String password) throws Exception {
        AuthSupport.role(name, password, false);
        ROLES.add(name);
        return name;
    }
}
