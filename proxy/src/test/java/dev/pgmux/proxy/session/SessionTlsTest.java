package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.socket;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.io.EOFException;
import java.io.IOException;
import java.sql.Connection;
import java.util.Properties;
import javax.net.ssl.SSLSocket;

/** TLS between clients and pgmux, in each mode: allowed, required and (the default) disabled. */
@Timeout(60)
class SessionTlsTest {
    private static PgmuxHarness start(TlsMode mode) {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        return PgmuxHarness.start(mode == TlsMode.DISABLED ? config : config.withTls(TlsConfig.selfSigned(mode)));
    }

    private static Connection connect(PgmuxHarness pgmux, String sslmode) throws Exception {
        Properties props = new Properties();
        props.setProperty("sslmode", sslmode);
        return pgmux.connect(TestPostgres.SCRAM, props);
    }

    @Test
    void allowedServesTlsAndPlaintextClients() throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.ALLOWED)) {
            try (Connection tls = connect(pgmux, "require")) {
                assertThat(socket(tls)).as("the client's socket to pgmux").isInstanceOf(SSLSocket.class);
                assertThat(((SSLSocket) socket(tls)).getSession().getProtocol()).startsWith("TLS");
                assertThat(text(tls, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
            }
            try (Connection plain = connect(pgmux, "disable")) {
                assertThat(socket(plain)).isNotInstanceOf(SSLSocket.class);
                assertThat(text(plain, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
            }
            assertThat(sslRequestAnswer(pgmux)).isEqualTo('S');
        }
    }

    @Test
    void requiredRefusesPlaintextClientsWithAClearError() throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.REQUIRED)) {
            PSQLException e = serverError(() -> connect(pgmux, "disable").close());
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getServerErrorMessage().getMessage()).contains("SSL");

            try (Connection tls = connect(pgmux, "require")) {
                assertThat(socket(tls)).isInstanceOf(SSLSocket.class);
                assertThat(text(tls, "SELECT 1")).isEqualTo("1");
            }
            try (Connection preferred = connect(pgmux, "prefer")) {
                assertThat(socket(preferred)).as("sslmode=prefer takes the TLS offered").isInstanceOf(SSLSocket.class);
                assertThat(text(preferred, "SELECT 1")).isEqualTo("1");
            }
        }
    }

    @Test
    void disabledDeclinesTlsAndServesPlaintext() throws Exception {
        try (PgmuxHarness pgmux = start(TlsMode.DISABLED)) {
            assertThat(sslRequestAnswer(pgmux)).isEqualTo('N');
            PSQLException e = catchPsql(() -> connect(pgmux, "require").close());
            assertThat(e.getMessage()).contains("SSL");
            try (Connection plain = connect(pgmux, "prefer")) {
                assertThat(socket(plain)).isNotInstanceOf(SSLSocket.class);
                assertThat(text(plain, "SELECT 1")).isEqualTo("1");
            }
        }
    }

    /** Sends an SSLRequest and returns pgmux's one-byte answer. */
    private static char sslRequestAnswer(PgmuxHarness pgmux) throws IOException {
        try (WireClient client = WireClient.connect(pgmux.sessionPort())) {
            client.send(Wire.sslRequest());
            int answer = client.readByte();
            if (answer < 0) {
                throw new EOFException("closed without an answer to the SSLRequest");
            }
            return (char) answer;
        }
    }

    private static PSQLException catchPsql(ThrowingCallable call) {
        PSQLException e = catchThrowableOfType(PSQLException.class, call);
        assertThat((Object) e).as("the PSQLException thrown").isNotNull();
        return e;
    }
}
