package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.session.SessionSupport.clientSocket;
import static dev.pgmux.proxy.session.SessionSupport.serverError;
import static dev.pgmux.proxy.session.SessionSupport.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.util.Properties;
import javax.net.ssl.SSLSocket;

/** TLS between clients and pgmux, in each mode: allowed, required and (the default) disabled. */
@Timeout(60)
class SessionTlsTest {
    private PgmuxHarness pgmux;

    @AfterEach
    void stopPgmux() {
        if (pgmux != null) {
            pgmux.close();
        }
    }

    private void start(TlsMode mode) {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        pgmux = PgmuxHarness.start(mode == TlsMode.DISABLED ? config : config.withTls(TlsConfig.selfSigned(mode)));
    }

    private Connection connect(String sslmode) throws Exception {
        Properties props = new Properties();
        props.setProperty("sslmode", sslmode);
        return pgmux.connect(TestPostgres.SCRAM, props);
    }

    @Test
    void allowedServesTlsAndPlaintextClients() throws Exception {
        start(TlsMode.ALLOWED);
        try (Connection tls = connect("require")) {
            assertThat(clientSocket(tls)).as("the client's socket to pgmux").isInstanceOf(SSLSocket.class);
            assertThat(((SSLSocket) clientSocket(tls)).getSession().getProtocol()).startsWith("TLS");
            assertThat(text(tls, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
        }
        try (Connection plain = connect("disable")) {
            assertThat(clientSocket(plain)).isNotInstanceOf(SSLSocket.class);
            assertThat(text(plain, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
        }
        assertThat(sslRequestAnswer()).isEqualTo('S');
    }

    @Test
    void requiredRefusesPlaintextClientsWithAClearError() throws Exception {
        start(TlsMode.REQUIRED);
        PSQLException e = serverError(() -> connect("disable").close());
        assertThat(e.getSQLState()).isEqualTo("28000");
        assertThat(e.getServerErrorMessage().getMessage()).contains("SSL");

        try (Connection tls = connect("require")) {
            assertThat(clientSocket(tls)).isInstanceOf(SSLSocket.class);
            assertThat(text(tls, "SELECT 1")).isEqualTo("1");
        }
        try (Connection preferred = connect("prefer")) {
            assertThat(clientSocket(preferred)).as("sslmode=prefer takes the TLS offered").isInstanceOf(SSLSocket.class);
            assertThat(text(preferred, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void disabledDeclinesTlsAndServesPlaintext() throws Exception {
        start(TlsMode.DISABLED);
        assertThat(sslRequestAnswer()).isEqualTo('N');
        PSQLException e = catchPsql(() -> connect("require").close());
        assertThat(e.getMessage()).contains("SSL");
        try (Connection plain = connect("prefer")) {
            assertThat(clientSocket(plain)).isNotInstanceOf(SSLSocket.class);
            assertThat(text(plain, "SELECT 1")).isEqualTo("1");
        }
    }

    /** Sends an SSLRequest and returns pgmux's one-byte answer. */
    private char sslRequestAnswer() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", pgmux.sessionPort())) {
            socket.setSoTimeout((int) SessionSupport.WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            out.flush();
            return (char) new DataInputStream(socket.getInputStream()).readByte();
        }
    }

    private static PSQLException catchPsql(ThrowingCallable call) {
        PSQLException e = catchThrowableOfType(PSQLException.class, call);
        assertThat((Object) e).as("the PSQLException thrown").isNotNull();
        return e;
    }
}
