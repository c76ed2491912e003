package dev.pgmux.proxy.reload;

import static dev.pgmux.proxy.reload.ReloadFixture.config;
import static dev.pgmux.proxy.reload.ReloadFixture.connect;
import static dev.pgmux.proxy.reload.ReloadFixture.role;
import static dev.pgmux.proxy.reload.ReloadFixture.tenant;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.socket;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestRole;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Properties;
import javax.net.ssl.SSLSocket;

/** TLS towards clients on reload: a rotated certificate, a stricter mode, and a certificate that cannot be used. */
@Timeout(60)
class ReloadTlsTest {

    private static Connection tls(PgmuxHarness pgmux, TestRole role) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", role.name() + ".acme");
        props.setProperty("password", role.password());
        props.setProperty("sslmode", "require");
        return DriverManager.getConnection(Port.SESSION.jdbcUrl(pgmux, "postgres"), props);
    }

    /** The subject of the certificate pgmux presented on this connection. */
    private static String certificate(Connection c) throws Exception {
        SSLSocket socket = (SSLSocket) socket(c);
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    private static void install(SelfSignedCertificate pair, Path cert, Path key) throws Exception {
        Files.copy(pair.certificate().toPath(), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pair.privateKey().toPath(), key, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aRotatedCertificateIsServedToNewClientsWhileConnectedOnesGoOn(@TempDir Path dir) throws Exception {
        TestRole role = role("reload_tls", "tls_pw");
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        install(new SelfSignedCertificate("first.example"), cert, key);
        PgmuxConfig config = config(tenant("acme", role)).withTls(TlsConfig.pem(TlsMode.ALLOWED, cert, key));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection first = tls(pgmux, role);
             Connection plaintext = connect(pgmux, Port.SESSION, "acme", role)) {
            assertThat(certificate(first)).isEqualTo("CN=first.example");

            install(new SelfSignedCertificate("second.example"), cert, key);
            ReloadResult rotated = pgmux.server().reload(config);

            assertThat(rotated).isInstanceOf(ReloadResult.Applied.class);
            assertThat(((ReloadResult.Applied) rotated).changes())
                    .containsExactly("tls: certificate or key file changed, read again");
            try (Connection second = tls(pgmux, role)) {
                assertThat(certificate(second)).isEqualTo("CN=second.example");
            }
            assertThat(text(first, "SELECT 'first'")).isEqualTo("first");

            // Required from now on: new plaintext clients are refused, the connected one goes on.
            PgmuxConfig required = config.withTls(TlsConfig.pem(TlsMode.REQUIRED, cert, key));
            assertThat(pgmux.server().reload(required)).isInstanceOf(ReloadResult.Applied.class);
            PSQLException refused = serverError(() -> connect(pgmux, Port.TRANSACTION, "acme", role).close());
            assertThat(refused.getSQLState()).isEqualTo("28000");
            assertThat(text(plaintext, "SELECT 'plaintext'")).isEqualTo("plaintext");

            // A certificate file that is not one is refused; the certificate in effect stays.
            Files.writeString(cert, "not a certificate\n");
            ReloadResult broken = pgmux.server().reload(required);
            assertThat(broken).isInstanceOf(ReloadResult.Refused.class);
            assertThat(((ReloadResult.Refused) broken).problems()).singleElement().asString().startsWith("tls.cert_file: ");
            try (Connection third = tls(pgmux, role)) {
                assertThat(certificate(third)).isEqualTo("CN=second.example");
            }
        }
    }
}
