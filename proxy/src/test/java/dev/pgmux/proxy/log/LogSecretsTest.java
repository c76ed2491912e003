package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * No log line, at any level down to DEBUG, holds a password or anything of a SCRAM exchange (nonces, salt,
 * proofs, signatures): after a SCRAM login, failed logins (a wrong password, an unknown user), a console login
 * and a console user refused, through pgjdbc and through a SCRAM client whose messages the test keeps.
 */
@Timeout(120)
class LogSecretsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final UserConfig ADMIN = new UserConfig("admin", "Adm1n-Console-Secret");
    private static final String WRONG = "Wr0ng-Guessed-Secret";
    /** Base64 as SCRAM writes nonces, salts and proofs: 20 characters and more, with digits and both cases. */
    private static final Pattern BASE64ISH = Pattern.compile("[A-Za-z0-9+/]{20,}={0,2}");

    @Test
    void noPasswordNorAnythingOfTheScramExchangeReachesTheLog() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withConsole(new ConsoleConfig(List.of(ADMIN), List.of()))
                .withLog(LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withStatsPeriod(java.time.Duration.ofSeconds(1)));
        Set<String> exchanged = new LinkedHashSet<>();
        try (LogCapture log = LogCapture.of(Logger.ROOT_LOGGER_NAME, Level.DEBUG);
             PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            for (Port port : Port.values()) {
                try (Connection c = port.connect(pgmux, ROLE)) {
                    assertThat(text(c, "SELECT 1")).isEqualTo("1");
                }
            }
            assertThat(loginFails(pgmux, PgmuxHarness.tenantUser(ROLE), WRONG, "postgres")).isEqualTo("28P01");
            assertThat(loginFails(pgmux, "nobody." + PgmuxHarness.TENANT, WRONG, "postgres")).isEqualTo("28P01");
            try (Connection console = DriverManager.getConnection(Port.SESSION.jdbcUrl(pgmux, "pgbouncer"),
                    login(ADMIN.name(), ADMIN.password()))) {
                assertThat(text(console, "SHOW VERSION")).startsWith("pgmux");
            }
            assertThat(loginFails(pgmux, ADMIN.name(), WRONG, "pgbouncer")).isEqualTo("28P01");
            assertThat(loginFails(pgmux, PgmuxHarness.tenantUser(ROLE), ROLE.password(), "pgbouncer")).isEqualTo("28000");

            exchanged.addAll(scramLogin(pgmux, PgmuxHarness.tenantUser(ROLE), ROLE.password(), "postgres"));
            exchanged.addAll(scramLogin(pgmux, PgmuxHarness.tenantUser(ROLE), WRONG, "postgres"));
            exchanged.addAll(scramLogin(pgmux, ADMIN.name(), ADMIN.password(), "pgbouncer"));
            Wait.until("every client's disconnect line", () -> pgmux.tenant().clients() == 0
                    && log.events(LogCapture.field("event", "disconnect")).size() >= 5, log::text);
            Wait.until("a statistics line", () -> !log.events(e -> e.getLoggerName().equals("pgmux.stats")).isEmpty());

            String all = everything(log.events());
            assertThat(all).as("the connection lines were captured").contains(" login: user=" + ROLE.name());
            for (String secret : List.of(ROLE.password(), WRONG, ADMIN.password())) {
                assertThat(all).as("a password").doesNotContain(secret);
            }
            assertThat(exchanged).as("values of the SCRAM exchanges").hasSizeGreaterThan(8);
            for (String value : exchanged) {
                assertThat(all).as("a value of a SCRAM exchange").doesNotContain(value);
            }
            Matcher m = BASE64ISH.matcher(all);
            List<String> base64 = new ArrayList<>();
            while (m.find()) {
                String token = m.group();
                if (token.chars().anyMatch(Character::isDigit) && token.chars().anyMatch(Character::isUpperCase)
                        && token.chars().anyMatch(Character::isLowerCase)) {
                    base64.add(token);
                }
            }
            assertThat(base64).as("base64-like text in the log").isEmpty();
        }
    }

    private static String loginFails(PgmuxHarness pgmux, String user, String password, String database) {
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> DriverManager.getConnection(Port.SESSION.jdbcUrl(pgmux, database), login(user, password)).close());
        assertThat((Object) e).as("a failed login as %s", user).isNotNull();
        return e.getSQLState();
    }

    private static Properties login(String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        return props;
    }

    /**
     * A SCRAM-SHA-256 login by hand, up to its end (AuthenticationOk or an error); returns every attribute value
     * of the four SCRAM messages (nonces, salt, proof, server signature), the ones a log must never show.
     */
    private static Set<String> scramLogin(PgmuxHarness pgmux, String user, String password, String database)
            throws Exception {
        Set<String> values = new LinkedHashSet<>();
        try (WireClient client = WireClient.connect(pgmux.sessionPort())) {
            client.send(Wire.startupPacket(user, database));
            BackendMessage sasl = client.expect('R');
            assertThat(sasl.int32(0)).as("AuthenticationSASL").isEqualTo(10);
            ScramClientSession scram = new ScramClientSession(password, new SecureRandom());
            byte[] clientFirst = scram.clientFirstMessage();
            values.addAll(attributes(clientFirst));
            ByteArrayOutputStream initial = new ByteArrayOutputStream();
            Wire.cstring(initial, scram.mechanism());
            Wire.int32(initial, clientFirst.length);
            initial.writeBytes(clientFirst);
            client.send(Wire.message('p', initial.toByteArray()));
            BackendMessage serverFirst = client.expect('R');
            assertThat(serverFirst.int32(0)).as("AuthenticationSASLContinue").isEqualTo(11);
            byte[] serverFirstData = Arrays.copyOfRange(serverFirst.payload(), 4, serverFirst.payload().length);
            values.addAll(attributes(serverFirstData));
            byte[] clientFinal = scram.handleServerFirst(serverFirstData);
            values.addAll(attributes(clientFinal));
            client.send(Wire.message('p', clientFinal));
            BackendMessage answer = client.readMessage();
            if (answer.tag() == 'R' && answer.int32(0) == 12) {
                values.addAll(attributes(Arrays.copyOfRange(answer.payload(), 4, answer.payload().length)));
                client.readUntilReady(1);
            } else {
                assertThat(answer.tag()).as("an error after a wrong proof").isEqualTo('E');
            }
        }
        return values;
    }

    /** The values of a SCRAM message's attributes ({@code r=}, {@code s=}, {@code p=}, {@code v=}, {@code c=}). */
    private static List<String> attributes(byte[] message) {
        List<String> values = new ArrayList<>();
        for (String attribute : new String(message, StandardCharsets.UTF_8).split(",")) {
            if (attribute.length() > 2 && attribute.charAt(1) == '=' && "rspvc".indexOf(attribute.charAt(0)) >= 0
                    && attribute.length() - 2 >= 8) {
                values.add(attribute.substring(2));
            }
        }
        return values;
    }

    /** Every text of every event: message, key-value pairs, arguments, thread, errors with their stack frames. */
    private static String everything(List<ILoggingEvent> events) {
        StringBuilder out = new StringBuilder();
        for (ILoggingEvent e : events) {
            out.append(e.getLoggerName()).append(' ').append(e.getThreadName()).append(' ')
                    .append(e.getFormattedMessage()).append(' ').append(e.getMessage()).append(' ');
            if (e.getArgumentArray() != null) {
                out.append(Arrays.deepToString(e.getArgumentArray())).append(' ');
            }
            out.append(LogCapture.fields(e)).append(' ').append(e.getMDCPropertyMap());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                out.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
                for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
                    out.append(' ').append(frame.getSTEAsString());
                }
            }
            out.append('\n');
        }
        return out.toString();
    }
}
