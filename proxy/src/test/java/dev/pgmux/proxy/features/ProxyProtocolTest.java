package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.socket;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.AccessConfig;
import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.ProxyProtocolConfig;
import dev.pgmux.config.ProxyProtocolConfig.Mode;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.features.ConsoleSupport.Table;
import dev.pgmux.proxy.log.ConnectionLog;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestHaproxy;
import dev.pgmux.proxy.testing.TestHaproxy.Header;
import dev.pgmux.proxy.testing.TestHaproxy.Route;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

/**
 * listen.proxy_protocol on both ports, behind a real HAProxy (TCP mode, {@code send-proxy} and
 * {@code send-proxy-v2}) and against hand-made headers: the client's own address is the one allow lists,
 * the console and logs see; a connection without the header where one is required, a header from an
 * untrusted peer and a header that cannot be read are refused with an error, and no other client notices.
 */
@Timeout(120)
class ProxyProtocolTest {

    /** The address the test's clients connect to HAProxy from (any of 127/8 is the loopback's). */
    private static final String CLIENT_ADDRESS = "127.0.0.5";
    private static final String OTHER_ADDRESS = "127.0.0.6";
    /** The address HAProxy connects to pgmux from on the routes pgmux trusts. */
    private static final String TRUSTED_PROXY = "127.0.0.9";

    private static PgmuxHarness start(ProxyProtocolConfig proxyProtocol, UnaryOperator<PgmuxConfig> more) {
        PgmuxConfig config = ConsoleSupport.config();
        return PgmuxHarness.start(more.apply(config.withListen(config.listen().withProxyProtocol(proxyProtocol))));
    }

    private static Connection connectVia(int port, String from, Properties extra) throws SQLException {
        Properties props = PgmuxHarness.loginProperties(TestPostgres.SCRAM, new Properties());
        props.setProperty("socketTimeout", "60");
        props.setProperty("sslmode", "disable");
        props.setProperty("localSocketAddress", from);
        props.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props);
    }

    /** The admin console through HAProxy: its clients come through the same listeners. */
    private static Connection consoleVia(int port, String from) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", ConsoleSupport.ADMIN.name());
        props.setProperty("password", ConsoleSupport.ADMIN.password());
        props.setProperty("sslmode", "disable");
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("socketTimeout", "30");
        props.setProperty("localSocketAddress", from);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/pgbouncer", props);
    }

    private static Connection connectVia(int port, String from) throws SQLException {
        return connectVia(port, from, new Properties());
    }

    /** The tenant's clients as pgmux sees them, by their address. */
    private static List<InetSocketAddress> clientAddresses(PgmuxHarness pgmux) {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (ClientConnection client : pgmux.server().runtime().clients().all()) {
            if (client.tenant() != null && client.remoteAddress() instanceof InetSocketAddress inet) {
                addresses.add(inet);
            }
        }
        return addresses;
    }

    static Stream<Arguments> portsAndHeaders() {
        return Stream.of(Port.values()).flatMap(port -> Stream.of(Header.V1, Header.V2).map(h -> Arguments.of(port, h)));
    }

    @ParameterizedTest
    @MethodSource("portsAndHeaders")
    void behindHaproxyTheClientsOwnAddressCounts(Port port, Header header) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), c -> c.withTenants(List.of(
                        PgmuxHarness.defaultTenant().withAccess(AccessConfig.open().withAllowList(List.of(CLIENT_ADDRESS + "/32")))))
                .withLog(LogConfig.defaults().withLogConnections(true)));
             TestHaproxy haproxy = TestHaproxy.start(Route.of("lb", port.of(pgmux), header));
             LogCapture log = LogCapture.of(ConnectionLog.LOGGER)) {
            int lb = haproxy.port("lb");
            try (Connection c = connectVia(lb, CLIENT_ADDRESS)) {
                // HAProxy reaches pgmux from 127.0.0.1, which the allow list leaves out: the header's address got in.
                assertThat(text(c, "SELECT 'through ' || 'haproxy'")).isEqualTo("through haproxy");
                int clientPort = socket(c).getLocalPort();
                assertThat(clientAddresses(pgmux)).contains(new InetSocketAddress(CLIENT_ADDRESS, clientPort));
                log.await("the login line", LogCapture.field("event", "login")
                        .and(LogCapture.field("address", CLIENT_ADDRESS + ":" + clientPort)));

                try (Connection console = consoleVia(lb, CLIENT_ADDRESS)) {
                    Table clients = ConsoleSupport.query(console, "SHOW CLIENTS");
                    List<String> row = clients.row("port", Integer.toString(clientPort));
                    assertThat(row.get(clients.index("addr"))).isEqualTo(CLIENT_ADDRESS);
                    assertThat(row.get(clients.index("user"))).isEqualTo(TestPostgres.SCRAM.name());
                }
            }

            PSQLException refused = serverError(() -> connectVia(lb, OTHER_ADDRESS).close());
            assertThat(refused.getSQLState()).isEqualTo("28000");
            assertThat(refused.getServerErrorMessage().getMessage())
                    .isEqualTo("Address not in tenant allow_list: " + OTHER_ADDRESS);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void withoutTheHeaderWhereItIsRequiredAClientIsRefusedAndNoOtherNotices(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), UnaryOperator.identity());
             TestHaproxy haproxy = TestHaproxy.start(Route.of("lb", port.of(pgmux), Header.V2));
             Connection through = connectVia(haproxy.port("lb"), CLIENT_ADDRESS)) {
            assertThat(text(through, "SELECT 'before'")).isEqualTo("before");

            for (String sslmode : new String[]{"disable", "prefer"}) {
                Properties direct = new Properties();
                direct.setProperty("sslmode", sslmode);
                PSQLException refused = serverError(() -> port.connect(pgmux, TestPostgres.SCRAM, direct).close());
                assertThat(refused.getSQLState()).isEqualTo("08P01");
                assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("this port accepts connections "
                        + "through a load balancer only: the connection must start with a PROXY protocol header");
            }
            assertThat(text(through, "SELECT 'after'")).isEqualTo("after");
            Wait.until("only the proxied client is left", () -> pgmux.tenant().clients() == 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void whereTheHeaderIsOptionalBothKindsOfClientAreServed(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.OPTIONAL), UnaryOperator.identity());
             TestHaproxy haproxy = TestHaproxy.start(Route.of("v1", port.of(pgmux), Header.V1),
                     Route.of("v2", port.of(pgmux), Header.V2), Route.of("plain", port.of(pgmux), Header.NONE));
             Connection v1 = connectVia(haproxy.port("v1"), CLIENT_ADDRESS);
             Connection v2 = connectVia(haproxy.port("v2"), OTHER_ADDRESS);
             Connection plain = connectVia(haproxy.port("plain"), CLIENT_ADDRESS);
             Connection direct = port.connect(pgmux, TestPostgres.SCRAM)) {
            for (Connection c : List.of(v1, v2, plain, direct)) {
                assertThat(text(c, "SELECT current_user")).isEqualTo(TestPostgres.SCRAM.name());
            }
            assertThat(clientAddresses(pgmux)).contains(
                    new InetSocketAddress(CLIENT_ADDRESS, socket(v1).getLocalPort()),
                    new InetSocketAddress(OTHER_ADDRESS, socket(v2).getLocalPort()),
                    // No header: the peer is HAProxy itself, and the direct client is its own peer.
                    new InetSocketAddress("127.0.0.1", socket(direct).getLocalPort()));
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aHeaderFromAPeerOutsideTheTrustedNetworksIsRefused(Port port) throws Exception {
        ProxyProtocolConfig trusting = ProxyProtocolConfig.of(Mode.OPTIONAL).withNetworks(List.of(TRUSTED_PROXY + "/32"));
        try (PgmuxHarness pgmux = start(trusting, UnaryOperator.identity());
             TestHaproxy haproxy = TestHaproxy.start(
                     new Route("trusted", port.of(pgmux), Header.V2, TRUSTED_PROXY),
                     new Route("untrusted", port.of(pgmux), Header.V2, "127.0.0.1"));
             Connection trusted = connectVia(haproxy.port("trusted"), CLIENT_ADDRESS)) {
            assertThat(clientAddresses(pgmux)).contains(new InetSocketAddress(CLIENT_ADDRESS, socket(trusted).getLocalPort()));

            PSQLException refused = serverError(() -> connectVia(haproxy.port("untrusted"), CLIENT_ADDRESS).close());
            assertThat(refused.getSQLState()).isEqualTo("08P01");
            assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("PROXY protocol header from an untrusted address");

            // Optional: a client of its own from an untrusted address is still served, under its own address.
            try (Connection direct = port.connect(pgmux, TestPostgres.SCRAM)) {
                assertThat(text(direct, "SELECT 1")).isEqualTo("1");
            }
            assertThat(text(trusted, "SELECT 2")).isEqualTo("2");
        }
    }

    static Stream<Arguments> portsAndUnreadableHeaders() {
        byte[] v2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
        List<byte[]> headers = List.of(
                ascii("PROXY TCP4 192.0.2.1\r\n"),                          // fields missing
                ascii("PROXY TCP4 300.0.2.1 127.0.0.1 4000 6543\r\n"),      // not an address
                ascii("PROXY TCP4 192.0.2.1 127.0.0.1 4000 99999\r\n"),     // not a port
                ascii("PROXY " + "A".repeat(200)),                          // no line end within 107 bytes
                concat(v2, new byte[]{0x31, 0x11, 0x00, 0x0C}),              // version 3
                concat(v2, new byte[]{0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4}),  // TCP4 with too short an address block
                concat(v2, new byte[]{0x21, 0x77, 0x00, 0x00}));             // no such family
        return Stream.of(Port.values()).flatMap(port -> headers.stream().map(h -> Arguments.of(port, h)));
    }

    @ParameterizedTest
    @MethodSource("portsAndUnreadableHeaders")
    void anUnreadableHeaderClosesItsConnectionAndNothingElse(Port port, byte[] header) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), UnaryOperator.identity());
             TestHaproxy haproxy = TestHaproxy.start(Route.of("lb", port.of(pgmux), Header.V1));
             Connection through = connectVia(haproxy.port("lb"), CLIENT_ADDRESS);
             WireClient bad = WireClient.connect(port.of(pgmux))) {
            bad.send(header);
            try {
                bad.send(WireClient.Wire.startupPacket(PgmuxHarness.tenantUser(TestPostgres.SCRAM), "postgres"));
            } catch (java.io.IOException closedAlready) {
                // pgmux may have hung up on the header before this write
            }
            WireClient.Drained drained = bad.drainUntilClosed(Duration.ofSeconds(10));
            assertThat(drained.closed()).as("closed within 10 s").isTrue();
            assertThat(drained.messages()).noneMatch(m -> m.tag() == 'R'); // no login began

            assertThat(text(through, "SELECT 'unaffected'")).isEqualTo("unaffected");
            Wait.until("only the proxied client is left", Duration.ofSeconds(5), () -> pgmux.tenant().clients() == 1
                    && pgmux.server().runtime().clients().all().size() == 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aHeaderSentByteByByteThenALoginInTheSameWriteAsALocalHeader(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), UnaryOperator.identity())) {
            String user = PgmuxHarness.tenantUser(TestPostgres.SCRAM);
            try (WireClient slow = WireClient.connect(port.of(pgmux))) {
                for (byte b : ascii("PROXY TCP6 2001:db8::7 ::1 40001 6543\r\n")) {
                    slow.send(new byte[]{b});
                }
                slow.send(WireClient.Wire.startupPacket(user, "postgres"));
                slow.authenticate(user, TestPostgres.SCRAM.password());
                slow.awaitLoginReady();
                assertThat(slow.queryValue("SELECT 'slow'")).isEqualTo("slow");
                assertThat(clientAddresses(pgmux)).contains(new InetSocketAddress("2001:db8::7", 40001));
            }
            // v2 LOCAL (a load balancer's own check), with the startup packet in the same write: the peer's address.
            byte[] local = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
            try (WireClient checker = WireClient.connect(port.of(pgmux))) {
                checker.send(concat(local, WireClient.Wire.startupPacket(user, "postgres")));
                checker.authenticate(user, TestPostgres.SCRAM.password());
                checker.awaitLoginReady();
                assertThat(checker.queryValue("SELECT 'local'")).isEqualTo("local");
                assertThat(clientAddresses(pgmux)).contains(
                        new InetSocketAddress("127.0.0.1", checker.socket().getLocalPort()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aPeerThatHangsUpAfterItsHeaderIsForgottenAtOnce(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), UnaryOperator.identity())) {
            for (String header : new String[]{"PROXY TCP4 192.0.2.1 127.0.0.1 4000 6543\r\n", "PROXY TCP4 192.0.2.1 12"}) {
                try (WireClient peer = WireClient.connect(port.of(pgmux))) {
                    peer.send(ascii(header));
                    peer.socket().shutdownOutput();
                    WireClient.Drained drained = peer.drainUntilClosed(Duration.ofSeconds(5));
                    assertThat(drained.closed()).as("closed after " + header.strip()).isTrue();
                }
                Wait.until("no client left", Duration.ofSeconds(5), () -> pgmux.server().runtime().clients().all().isEmpty());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aConnectionThatNeverCompletesItsHeaderEndsAtTheLoginTimeout(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED),
                c -> c.withLimits(LimitsConfig.defaults().withLoginTimeout(Duration.ofSeconds(1))));
             WireClient silent = WireClient.connect(port.of(pgmux));
             WireClient partial = WireClient.connect(port.of(pgmux))) {
            partial.send(ascii("PROX"));
            for (WireClient client : List.of(silent, partial)) {
                WireClient.Drained drained = client.drainUntilClosed(Duration.ofSeconds(15));
                assertThat(drained.closed()).as(client + " closed").isTrue();
                assertThat(drained.sinceConnect()).isLessThan(Duration.ofSeconds(10));
            }
            Wait.until("no client left", () -> pgmux.server().runtime().clients().all().isEmpty());
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aCancelThroughHaproxyReachesTheQuery(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED), UnaryOperator.identity());
             TestHaproxy haproxy = TestHaproxy.start(Route.of("lb", port.of(pgmux), Header.V2));
             Connection c = connectVia(haproxy.port("lb"), CLIENT_ADDRESS);
             Statement s = c.createStatement()) {
            CompletableFuture<Throwable> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("SELECT pg_sleep(60)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Wait.until("the sleep runs", () -> dev.pgmux.proxy.testing.Pgjdbc.running("SELECT pg_sleep(60)") == 1);
            s.cancel(); // pgjdbc's CancelRequest goes through HAProxy on a connection of its own, header first
            Throwable failure = sleeping.get(20, TimeUnit.SECONDS);
            assertThat(failure).isInstanceOf(PSQLException.class);
            assertThat(((PSQLException) failure).getSQLState()).isEqualTo("57014");
            assertThat(text(c, "SELECT 'after the cancel'")).isEqualTo("after the cancel");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void tlsStartsAfterTheHeader(Port port) throws Exception {
        try (PgmuxHarness pgmux = start(ProxyProtocolConfig.of(Mode.REQUIRED),
                c -> c.withTls(TlsConfig.selfSigned(TlsMode.REQUIRED)));
             TestHaproxy haproxy = TestHaproxy.start(Route.of("lb", port.of(pgmux), Header.V2))) {
            Properties tls = new Properties();
            tls.setProperty("sslmode", "require");
            try (Connection c = connectVia(haproxy.port("lb"), CLIENT_ADDRESS, tls)) {
                assertThat(socket(c)).isInstanceOf(SSLSocket.class);
                assertThat(text(c, "SELECT repeat('x', 100000)")).hasSize(100_000);
                assertThat(clientAddresses(pgmux)).extracting(InetSocketAddress::getHostString).contains(CLIENT_ADDRESS);
            }
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
