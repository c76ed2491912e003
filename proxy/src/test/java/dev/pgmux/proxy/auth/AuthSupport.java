package dev.pgmux.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/** Roles and passwords of the test Postgres as stored, logins through pgjdbc and psql, and what no log may show. */
final class AuthSupport {
    private AuthSupport() {}

    /** What pg_authid stores for {@code role}: its SCRAM verifier or MD5 hash. */
    static String stored(String role) throws SQLException {
        try (Connection c = TestPostgres.get().superuser();
             PreparedStatement ps = c.prepareStatement("SELECT rolpassword FROM pg_authid WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("role %s", role).isTrue();
                return rs.getString(1);
            }
        }
    }

    /** Runs statements as the superuser. */
    static void superuser(String... statements) throws SQLException {
        try (Connection c = TestPostgres.get().superuser(); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    /** Creates (or resets) a login role whose password is stored as SCRAM-SHA-256, or as MD5. */
    static void role(String name, String password, boolean md5) throws SQLException {
        superuser("SET password_encryption = '" + (md5 ? "md5" : "scram-sha-256") + "'",
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + name + "') THEN CREATE ROLE "
                        + name + " LOGIN; END IF; END $$",
                "ALTER ROLE " + name + " LOGIN PASSWORD '" + password + "'");
    }

    static void dropRole(String name) throws SQLException {
        TestPostgres.get().terminateBackends(name);
        superuser("DROP ROLE IF EXISTS " + name);
    }

    /** A configuration of one tenant, which is also the default tenant (its users log in with their plain names). */
    static PgmuxConfig defaultTenant(TenantConfig tenant) {
        return new PgmuxConfig(ListenConfig.ephemeral(), TlsConfig.disabled(), LimitsConfig.defaults(),
                Optional.of(tenant.id()), List.of(tenant));
    }

    static Properties login(String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        props.setProperty("socketTimeout", "30");
        return props;
    }

    static Connection connect(PgmuxHarness pgmux, Port port, String user, String password) throws SQLException {
        return DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), login(user, password));
    }

    /** psql's exit code and everything it printed. */
    record PsqlRun(int exit, String output) {}

    static PsqlRun psql(PgmuxHarness pgmux, Port port, String user, String password, String sql) throws Exception {
        Path bin = TestPostgres.binaries();
        String psql = bin != null && bin.resolve("psql").toFile().canExecute() ? bin.resolve("psql").toString() : "psql";
        ProcessBuilder builder = new ProcessBuilder(psql, "-X", "-A", "-t", "-h", "127.0.0.1",
                "-p", String.valueOf(port.of(pgmux)), "-U", user, "-d", "postgres", "-c", sql).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", password);
        builder.environment().put("PGSSLMODE", "disable");
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        Process process = builder.start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("psql did not finish: " + sql);
            }
            return new PsqlRun(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    /** The captured DEBUG log holds none of {@code secrets} (passwords, keys, hashes, in every encoding given). */
    static void assertNoSecretIn(LogCapture log, List<String> secrets) {
        String all = log.text();
        assertThat(all).as("the DEBUG log was captured").isNotEmpty();
        for (String secret : secrets) {
            assertThat(all).as("a password, key or hash in the log").doesNotContain(secret);
        }
    }

    /**
     * Every form in which a secret of {@code password} and its verifier could reach a log: the password, the
     * verifier's StoredKey and ServerKey, and the ClientKey pgmux recovers from a client's proof, in base64 and
     * in hex.
     */
    static List<String> secretsOf(String password, String verifier) throws GeneralSecurityException {
        List<String> secrets = new ArrayList<>(List.of(password));
        if (verifier != null && verifier.startsWith("SCRAM-SHA-256$")) {
            ScramSecret secret = ScramSecret.parse(verifier);
            byte[] clientKey = clientKey(password, secret.salt(), secret.iterations());
            for (byte[] key : List.of(secret.storedKey(), secret.serverKey(), clientKey)) {
                secrets.add(Base64.getEncoder().encodeToString(key));
                secrets.add(HexFormat.of().formatHex(key));
            }
            secrets.add(verifier);
        } else if (verifier != null) {
            secrets.add(verifier.substring(3)); // the hex of an MD5 hash
        }
        return secrets;
    }

    /** ClientKey = HMAC(Hi(password, salt, i), "Client Key"), computed independently of pgmux. */
    static byte[] clientKey(String password, byte[] salt, int iterations) throws GeneralSecurityException {
        byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(salted, "HmacSHA256"));
        return mac.doFinal("Client Key".getBytes(StandardCharsets.US_ASCII));
    }
}
