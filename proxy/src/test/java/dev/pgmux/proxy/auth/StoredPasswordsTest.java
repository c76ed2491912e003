package dev.pgmux.proxy.auth;

import static dev.pgmux.proxy.auth.AuthSupport.connect;
import static dev.pgmux.proxy.auth.AuthSupport.psql;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.Md5Password;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Users configured with what Postgres stores instead of their password: a SCRAM-SHA-256 verifier (clients
 * checked against exactly it, pgmux logging in upstream by SCRAM passthrough) or an MD5 hash (clients
 * challenged with MD5, pgmux answering the upstream's MD5 challenge from the hash). On both ports, through
 * pgjdbc and psql; and nothing secret in any log line.
 */
@Timeout(120)
class StoredPasswordsTest {
    private static final String TENANT = "acme";
    /** A role upstream whose configured verifier has another salt than the one Postgres stores. */
    private static final String RESALTED = "sp_resalted";
    private static final String RESALTED_PASSWORD = "resalted_pass";
    /** A role stored as SCRAM upstream, configured with its MD5 hash. */
    private static final String HASHED = "sp_md5_but_scram";
    private static final String HASHED_PASSWORD = "hashed_pass";

    private static PgmuxHarness pgmux;
    private static LogCapture log;
    private static final List<String> secrets = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        AuthSupport.role(RESALTED, RESALTED_PASSWORD, false);
        AuthSupport.role(HASHED, HASHED_PASSWORD, false);
        String scramVerifier = AuthSupport.stored(TestPostgres.SCRAM.name());
        String md5Hash = AuthSupport.stored(TestPostgres.MD5.name());
        assertThat(md5Hash).startsWith("md5");
        String plainVerifier = AuthSupport.stored(TestPostgres.PLAIN.name());
        String resalted = ScramSecret.generate(RESALTED_PASSWORD, new SecureRandom()).toVerifier();
        String hashed = Md5Password.storedHash(HASHED, HASHED_PASSWORD);
        secrets.addAll(AuthSupport.secretsOf(TestPostgres.SCRAM.password(), scramVerifier));
        secrets.addAll(AuthSupport.secretsOf(TestPostgres.MD5.password(), md5Hash));
        secrets.addAll(AuthSupport.secretsOf(TestPostgres.PLAIN.password(), plainVerifier));
        secrets.addAll(AuthSupport.secretsOf(RESALTED_PASSWORD, resalted));
        secrets.addAll(AuthSupport.secretsOf(HASHED_PASSWORD, hashed));

        TestPostgres pg = TestPostgres.get();
        TenantConfig tenant = TenantConfig.of(TENANT, UpstreamConfig.of(pg.host(), pg.port()), List.of(
                new UserConfig(TestPostgres.SCRAM.name(), scramVerifier),
                new UserConfig(TestPostgres.MD5.name(), md5Hash),
                new UserConfig(TestPostgres.PLAIN.name(), plainVerifier),
                new UserConfig(RESALTED, resalted),
                new UserConfig(HASHED, hashed))).withPoolSize(3);
        log = LogCapture.of(Logger.ROOT_LOGGER_NAME, Level.DEBUG);
        pgmux = PgmuxHarness.start(AuthSupport.defaultTenant(tenant));
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
            AuthSupport.dropRole(RESALTED);
            AuthSupport.dropRole(HASHED);
        }
    }

    @AfterEach
    void nothingSecretWasLogged() {
        AuthSupport.assertNoSecretIn(log, secrets);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aVerifierAuthenticatesClientsAndLogsInUpstreamByPassthrough(Port port) throws Exception {
        try (Connection c = connect(pgmux, port, "scram_user." + TENANT, TestPostgres.SCRAM.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo("scram_user");
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                ps.setInt(1, 41);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
            }
        }
        AuthSupport.PsqlRun run = psql(pgmux, port, "scram_user", TestPostgres.SCRAM.password(), "SELECT current_user");
        assertThat(run.output().strip()).isEqualTo("scram_user");
        assertThat(run.exit()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aWrongPasswordAgainstAVerifierIs28P01(Port port) throws Exception {
        PSQLException e = serverError(() -> connect(pgmux, port, "scram_user." + TENANT, "not-the-password").close());

        assertThat(e.getSQLState()).isEqualTo("28P01");
        assertThat(e.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"scram_user." + TENANT + "\"");
        AuthSupport.PsqlRun run = psql(pgmux, port, "scram_user", "not-the-password", "SELECT 1");
        assertThat(run.exit()).isNotZero();
        assertThat(run.output()).contains("password authentication failed for user \"scram_user\"");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aVerifierWithAnotherSaltThanTheUpstreamsIsAClearError(Port port) throws Exception {
        SQLException e = sqlError(() -> connect(pgmux, port, RESALTED + "." + TENANT, RESALTED_PASSWORD).close());

        assertThat(e.getMessage()).contains("server login failed: the SCRAM verifier pgmux holds for user \"" + RESALTED
                + "\" of tenant " + TENANT + " does not match the upstream's (different salt or iteration count)");
        AuthSupport.PsqlRun run = psql(pgmux, port, RESALTED, RESALTED_PASSWORD, "SELECT 1");
        assertThat(run.exit()).isNotZero();
        assertThat(run.output()).contains("does not match the upstream's");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anMd5HashChallengesClientsWithMd5AndAnswersTheUpstreamsMd5(Port port) throws Exception {
        try (Connection c = connect(pgmux, port, TestPostgres.MD5.name(), TestPostgres.MD5.password())) {
            assertThat(text(c, "SELECT current_user")).isEqualTo(TestPostgres.MD5.name());
        }
        AuthSupport.PsqlRun run = psql(pgmux, port, TestPostgres.MD5.name(), TestPostgres.MD5.password(),
                "SELECT current_user");
        assertThat(run.output().strip()).isEqualTo(TestPostgres.MD5.name());

        PSQLException wrong = serverError(() -> connect(pgmux, port, TestPostgres.MD5.name(), "not-the-password").close());
        assertThat(wrong.getSQLState()).isEqualTo("28P01");
        assertThat(wrong.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"md5_user\"");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anMd5UserLoggingInAsNameDotTenantFailsAsAWrongPasswordDoes(Port port) {
        PSQLException dotted = serverError(() -> connect(pgmux, port, "md5_user." + TENANT, TestPostgres.MD5.password()).close());
        PSQLException wrong = serverError(() -> connect(pgmux, port, "scram_user." + TENANT, "not-the-password").close());

        assertThat(dotted.getSQLState()).isEqualTo("28P01").isEqualTo(wrong.getSQLState());
        assertThat(dotted.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"md5_user." + TENANT + "\"");
        assertThat(log.text()).contains("is known by an MD5 hash only");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anUpstreamAskingForACleartextPasswordWhenPgmuxHoldsAVerifierIsAClearError(Port port) {
        SQLException e = sqlError(() -> connect(pgmux, port, "plain_user." + TENANT, TestPostgres.PLAIN.password()).close());

        assertThat(e.getMessage()).contains("cannot log in upstream as user \"plain_user\" of tenant " + TENANT
                + ": the upstream asks for the cleartext password, and pgmux holds only the SCRAM-SHA-256 verifier");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void anUpstreamAskingForScramWhenPgmuxHoldsAnMd5HashIsAClearError(Port port) {
        SQLException e = sqlError(() -> connect(pgmux, port, HASHED, HASHED_PASSWORD).close());

        assertThat(e.getMessage()).contains("cannot log in upstream as user \"" + HASHED + "\" of tenant " + TENANT
                + ": the upstream asks for SCRAM-SHA-256 authentication, and pgmux holds only the MD5 hash");
    }
}
