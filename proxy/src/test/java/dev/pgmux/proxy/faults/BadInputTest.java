package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.idleInTransaction;
import static dev.pgmux.proxy.testing.Pgjdbc.idleOutsideTransaction;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Drained;
import dev.pgmux.proxy.testing.WireClient.Wire;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Malformed, oversized and unexpected input from clients, before and after login. After every case a
 * client that was connected before keeps working and a new client can log in.
 *
 * <p>The tenant's pools hold one server each, so that a server a misbehaving client held must come back
 * usable (or be replaced) for the next client of the same user to get anything at all.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {
    private static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(1);
    private static final int MAX_FRAME_SIZE = 64 * 1024;
    private static final int POOL_SIZE = 1;
    /** The role bad clients log in as; the healthy client uses another one, so it has a pool of its own. */
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final TestRole HEALTHY_ROLE = TestPostgres.MD5;
    private static final long FUZZ_SEED = Long.getLong("pgmux.fuzz.seed", 0x5eed_0f_bad_1a7eL);

    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(() -> config(TlsConfig.disabled()));
    private static Connection healthy;

    static PgmuxConfig config(TlsConfig tls) {
        return PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant()
                        .withPoolSize(POOL_SIZE)
                        .withCheckoutTimeout(Duration.ofSeconds(5)))
                .withLimits(LimitsConfig.defaults()
                        .withLoginTimeout(LOGIN_TIMEOUT)
                        .withMaxFrameSize(MAX_FRAME_SIZE))
                .withTls(tls);
    }

    @BeforeAll
    static void connectHealthyClient() throws Exception {
        healthy = pgmux.get().connect(HEALTHY_ROLE);
        assertThat(text(healthy, "SELECT current_user")).isEqualTo(HEALTHY_ROLE.name());
    }

    @AfterAll
    static void closeHealthyClient() throws Exception {
        if (healthy != null) {
            healthy.close();
        }
    }

    /** What every case must leave intact: the client connected before, and new logins of the bad clients' user. */
    @AfterEach
    void pgmuxStillServes() throws Exception {
        assertThat(text(healthy, "SELECT 41 + 1")).as("query on the client connected before").isEqualTo("42");
        try (Connection fresh = pgmux.get().connect(ROLE)) {
            assertThat(text(fresh, "SELECT current_user")).isEqualTo(ROLE.name());
            assertThat(idleOutsideTransaction(fresh))
                    .as("a new client's server is not inside a transaction left over by someone else")
                    .isTrue();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Before the startup packet is complete

    @Test
    void httpRequestInsteadOfStartupPacketIsRefusedAtOnce() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            raw.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedSilently(drained);
            assertThat(drained.sinceConnect()).as("refused on the bogus length, not at the login timeout")
                    .isLessThan(LOGIN_TIMEOUT);
        }
    }

    /** node-postgres's end() right after connect() sends Terminate before its startup packet. */
    @Test
    void terminateBeforeTheStartupPacketIsClosedSilently() throws Exception {
        for (int port : new int[] {pgmux.get().sessionPort(), pgmux.get().transactionPort()}) {
            try (WireClient raw = WireClient.connect(port)) {
                raw.send(new byte[] {'X', 0, 0, 0, 4});
                Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
                assertClosedSilently(drained);
                assertThat(drained.sinceConnect()).as("closed on the impossible length").isLessThan(LOGIN_TIMEOUT);
            }
        }
    }

    @Test
    void absurdStartupLengthIsRefusedWithoutWaitingForTheBytes() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            raw.send(ByteBuffer.allocate(8).putInt(0x7fffffff).putInt(Wire.PROTOCOL_3_0).array());
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedSilently(drained);
            assertThat(drained.sinceConnect()).as("refused on the length alone, before the login timeout")
                    .isLessThan(LOGIN_TIMEOUT);
        }
    }

    @Test
    void truncatedStartupPacketIsClosedAtTheLoginTimeout() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            byte[] packet = new byte[20];
            ByteBuffer.wrap(packet).putInt(100).putInt(Wire.PROTOCOL_3_0)
                    .put("user\0scram".getBytes(StandardCharsets.US_ASCII));
            raw.send(packet);
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(10));
            assertClosedSilently(drained);
            assertThat(drained.sinceConnect()).as("waits for the rest of the packet, but only up to the login timeout")
                    .isBetween(Duration.ofMillis(500), Duration.ofSeconds(5));
        }
    }

    @Test
    void silentClientIsClosedAtTheLoginTimeout() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(10));
            assertClosedSilently(drained);
            assertThat(drained.sinceConnect()).isBetween(Duration.ofMillis(500), Duration.ofSeconds(5));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Startup variants that must work

    @Test
    void protocolVersion2IsRefusedAsUnsupported() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            raw.send(Wire.startupPacket(2 << 16, startupParameters()));
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertThat(drained.closed()).as("closed").isTrue();
            assertThat(drained.errors()).extracting(BackendMessage::sqlState).containsExactly("0A000");
            assertThat(drained.messages()).extracting(BackendMessage::tag).containsOnly('E');
        }
    }

    @Test
    void protocol32WithUnknownOptionIsNegotiatedDownNotRefused() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            Map<String, String> parameters = startupParameters();
            parameters.put("_pq_.foo", "bar");
            raw.send(Wire.startupPacket((3 << 16) | 2, parameters));

            BackendMessage negotiate = raw.expect('v');
            assertThat(negotiate.int32(0)).as("newest minor version supported").isZero();
            assertThat(negotiate.int32(4)).as("number of unrecognized options").isEqualTo(1);
            assertThat(negotiate.cstrings(8)).containsExactly("_pq_.foo");

            assertThat(raw.authenticate(PgmuxHarness.tenantUser(ROLE), ROLE.password()))
                    .as("the first authentication request: AuthenticationSASL").isEqualTo(10);
            raw.awaitLoginReady();
            assertThat(raw.queryValue("SELECT 'negotiated'")).isEqualTo("negotiated");
        }
    }

    @Test
    void gssEncRequestIsAnsweredNAndStartupContinuesOnTheSameSocket() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            raw.send(Wire.gssEncRequest());
            assertThat(raw.readByte()).as("answer to GSSENCRequest").isEqualTo('N');
            raw.send(Wire.startupPacket(Wire.PROTOCOL_3_0, startupParameters()));
            raw.authenticate(PgmuxHarness.tenantUser(ROLE), ROLE.password());
            raw.awaitLoginReady();
            assertThat(raw.queryValue("SELECT current_user")).isEqualTo(ROLE.name());
        }
    }

    @Test
    void sslRequestWithTlsDisabledIsAnsweredNAndStartupContinues() throws Exception {
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            raw.send(Wire.sslRequest());
            assertThat(raw.readByte()).as("answer to SSLRequest without TLS").isEqualTo('N');
            raw.send(Wire.startupPacket(Wire.PROTOCOL_3_0, startupParameters()));
            raw.authenticate(PgmuxHarness.tenantUser(ROLE), ROLE.password());
            raw.awaitLoginReady();
            assertThat(raw.queryValue("SELECT current_user")).isEqualTo(ROLE.name());
        }
    }

    /** CVE-2021-23214 class: bytes sent in plaintext right behind SSLRequest must not be taken as if encrypted. */
    @Test
    void plaintextPipelinedBehindSslRequestIsRefusedWhenTlsIsOn() throws Exception {
        try (PgmuxHarness tls = PgmuxHarness.start(config(TlsConfig.selfSigned(TlsMode.ALLOWED)))) {
            // Control: the same pgmux does offer TLS to a client that waits for the answer ...
            try (WireClient raw = WireClient.connect(tls.sessionPort())) {
                raw.send(Wire.sslRequest());
                assertThat(raw.readByte()).as("answer to a lone SSLRequest with TLS on").isEqualTo('S');
            }
            Properties ssl = new Properties();
            ssl.setProperty("sslmode", "require");
            try (Connection c = tls.connect(ROLE, ssl)) {
                assertThat(text(c, "SELECT 'over tls'")).isEqualTo("over tls");
            }
            // ... but not to one that sends its startup packet in the clear behind the request.
            try (WireClient raw = WireClient.connect(tls.sessionPort())) {
                raw.send(Wire.concat(Wire.sslRequest(),
                        Wire.startupPacket(Wire.PROTOCOL_3_0, startupParameters())));
                Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
                assertThat(drained.bytes()).as("some answer before closing").isNotEmpty();
                assertThat((char) drained.bytes()[0]).as("no TLS offered ('S') to a client that already sent plaintext")
                        .isNotEqualTo('S');
                assertClosedWithOnly08P01(drained);
                assertThat(drained.errors()).isNotEmpty();
            }
        }
    }

    /** TLS accepted, then not a byte of handshake: the login timeout must bound the handshake too. */
    @Test
    void stalledTlsHandshakeIsClosedAtTheLoginTimeout() throws Exception {
        try (PgmuxHarness tls = PgmuxHarness.start(config(TlsConfig.selfSigned(TlsMode.ALLOWED)));
             WireClient raw = WireClient.connect(tls.sessionPort())) {
            raw.send(Wire.sslRequest());
            assertThat(raw.readByte()).isEqualTo('S');
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(15));
            assertThat(drained.closed()).as("closed (waited %d ms)", drained.sinceConnect().toMillis()).isTrue();
            assertThat(drained.sinceConnect())
                    .as("closed at limits.login_timeout (%s), not later (Netty's own TLS handshake timeout is 10 s)", LOGIN_TIMEOUT)
                    .isBetween(Duration.ofMillis(500), Duration.ofSeconds(5));
        }
    }

    /** The same, but with the handshake done: the login timeout closes the silent client, over TLS, without a word. */
    @Test
    void silentClientAfterTlsHandshakeIsClosedAtTheLoginTimeout() throws Exception {
        try (PgmuxHarness tls = PgmuxHarness.start(config(TlsConfig.selfSigned(TlsMode.ALLOWED)));
             WireClient raw = WireClient.connect(tls.sessionPort())) {
            raw.send(Wire.sslRequest());
            assertThat(raw.readByte()).isEqualTo('S');
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustAnyCertificate()}, new SecureRandom());
            try (SSLSocket ssl = (SSLSocket) context.getSocketFactory()
                    .createSocket(raw.socket(), "localhost", tls.sessionPort(), true)) {
                ssl.setSoTimeout(10_000);
                ssl.startHandshake();
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                boolean closed = false;
                byte[] buffer = new byte[4096];
                try {
                    for (int n; (n = ssl.getInputStream().read(buffer)) >= 0; ) {
                        received.write(buffer, 0, n);
                    }
                    closed = true;
                } catch (SocketTimeoutException e) {
                    closed = false;
                } catch (IOException e) {
                    closed = true; // closed without close_notify, or reset
                }
                Duration since = raw.sinceConnect();
                assertThat(closed).as("closed (waited %d ms)", since.toMillis()).isTrue();
                assertThat(since).isBetween(Duration.ofMillis(500), Duration.ofSeconds(5));
                assertThat(received.toByteArray()).as("closed without a word, as Postgres closes it").isEmpty();
            }
        }
    }

    /** For a test client only: pgmux's self-signed certificate is accepted without checks. */
    private static final class TrustAnyCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** TLS accepted, then a plaintext startup packet instead of a ClientHello: not a TLS record, closed. */
    @Test
    void plaintextInsteadOfTlsHandshakeIsClosedAtOnce() throws Exception {
        try (PgmuxHarness tls = PgmuxHarness.start(config(TlsConfig.selfSigned(TlsMode.ALLOWED)));
             WireClient raw = WireClient.connect(tls.sessionPort())) {
            raw.send(Wire.sslRequest());
            assertThat(raw.readByte()).isEqualTo('S');
            raw.send(Wire.startupPacket(Wire.PROTOCOL_3_0, startupParameters()));
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(10));
            assertThat(drained.closed()).as("closed (waited %d ms)", drained.sinceConnect().toMillis()).isTrue();
            assertThat(drained.sinceConnect()).as("closed on the bogus handshake, before the login timeout")
                    .isLessThan(LOGIN_TIMEOUT);
            assertThat(drained.messages()).as("nothing of the Postgres protocol in the clear")
                    .noneMatch(m -> m.tag() == 'R');
        }
    }

    @Test
    void startupPacketOverMaxStartupPacketSizeIsRefusedAtOnce() throws Exception {
        Map<String, String> parameters = startupParameters();
        parameters.put("application_name", "a".repeat(LimitsConfig.DEFAULT_MAX_STARTUP_PACKET_SIZE * 2));
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            try {
                raw.send(Wire.startupPacket(Wire.PROTOCOL_3_0, parameters));
            } catch (IOException e) {
                // refused while we were still writing
            }
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedWithOnly08P01(drained);
            assertThat(drained.sinceConnect()).isLessThan(LOGIN_TIMEOUT);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // After login

    @Test
    void messageLengthBelowFourAfterLoginIsRefused() throws Exception {
        int pid;
        try (WireClient raw = loggedIn()) {
            pid = Integer.parseInt(raw.queryValue("SELECT pg_backend_pid()"));
            raw.send(ByteBuffer.allocate(5).put((byte) 'Q').putInt(2).array());
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedWithOnly08P01(drained);
            assertThat(drained.errors()).hasSize(1);
        }
        assertServerReusedOrGone(pid);
    }

    @Test
    void absurdMessageLengthAfterLoginIsRefusedAndTheServerStaysUsable() throws Exception {
        int pid;
        try (WireClient raw = loggedIn()) {
            pid = Integer.parseInt(raw.queryValue("SELECT pg_backend_pid()"));
            raw.send(ByteBuffer.allocate(5).put((byte) 'Q').putInt(0x7fff0000).array());
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedWithOnly08P01(drained);
            assertThat(drained.errors()).hasSize(1);
            assertThat(drained.errors().getFirst().message()).containsAnyOf("max_frame_size", "maximum");
            assertThat(drained.sinceConnect()).isLessThan(Duration.ofSeconds(5));
        }
        assertServerReusedOrGone(pid);
    }

    @Test
    void queryLargerThanMaxFrameSizeIsRefusedAndTheServerStaysUsable() throws Exception {
        int pid;
        try (WireClient raw = loggedIn()) {
            pid = Integer.parseInt(raw.queryValue("SELECT pg_backend_pid()"));
            raw.send(Wire.query("SELECT '" + "x".repeat(100 * 1024) + "'"));
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertClosedWithOnly08P01(drained);
            assertThat(drained.errors()).hasSize(1);
            assertThat(drained.errors().getFirst().message()).containsAnyOf("max_frame_size", "maximum");
        }
        assertServerReusedOrGone(pid);
    }

    /** The oversized frame comes right behind a BEGIN in the same write: the server must not be pooled mid-transaction. */
    @Test
    void oversizedFrameBehindBeginLeavesNoServerInsideATransaction() throws Exception {
        int pid;
        try (WireClient raw = loggedIn()) {
            pid = Integer.parseInt(raw.queryValue("SELECT pg_backend_pid()"));
            raw.send(Wire.concat(Wire.query("BEGIN"),
                    ByteBuffer.allocate(5).put((byte) 'Q').putInt(MAX_FRAME_SIZE + 1).array()));
            Drained drained = raw.drainUntilClosed(Duration.ofSeconds(5));
            assertThat(drained.closed()).as("closed").isTrue();
            assertThat(drained.errors()).extracting(BackendMessage::sqlState).containsExactly("08P01");
        }
        Wait.until("no backend of " + ROLE.name() + " idle in transaction", Duration.ofSeconds(10),
                () -> idleInTransaction(ROLE.name()) == 0);
        assertServerReusedOrGone(pid);
    }

    // ---------------------------------------------------------------------------------------------
    // Fuzz

    private record FuzzOutcome(int index, String kind, byte[] input, Drained drained, String failure) {}

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void randomStartupBytesAreAlwaysClosedAndPgmuxStaysHealthy() throws Exception {
        int connections = 200;
        Duration allowed = LOGIN_TIMEOUT.plusMillis(2500); // the login timeout plus scheduling slack under load
        List<FuzzOutcome> outcomes = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<FuzzOutcome>> futures = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                int index = i;
                futures.add(pool.submit(() -> fuzzOne(index, allowed.plusSeconds(5))));
            }
            for (Future<FuzzOutcome> f : futures) {
                outcomes.add(f.get(60, TimeUnit.SECONDS));
            }
        }
        List<String> failures = new ArrayList<>();
        for (FuzzOutcome o : outcomes) {
            if (o.failure() != null) {
                failures.add(describe(o, o.failure()));
            } else if (!o.drained().closed()) {
                failures.add(describe(o, "still open after " + o.drained().sinceConnect().toMillis() + " ms"));
            } else if (o.drained().sinceConnect().compareTo(allowed) > 0) {
                failures.add(describe(o, "closed only after " + o.drained().sinceConnect().toMillis() + " ms"));
            } else if (o.drained().messages().stream().anyMatch(m -> m.tag() == 'R' && m.payload().length >= 4
                    && m.int32(0) == 0)) {
                failures.add(describe(o, "authenticated (AuthenticationOk) on random input"));
            }
        }
        assertThat(failures).as("fuzz connections (seed %d) that pgmux did not close within %d ms",
                FUZZ_SEED, allowed.toMillis()).isEmpty();

        assertThat(pgmux.get().adminGet("/health")).as("admin /health").isEqualTo(200);
        Tenant tenant = pgmux.get().tenant();
        Wait.until("the tenant counts only the healthy client", Duration.ofSeconds(5),
                () -> tenant.clients() == 1, () -> "clients=" + tenant.clients());
        Wait.until("cancel keys only of the healthy client", Duration.ofSeconds(5),
                () -> pgmux.get().server().runtime().cancels().size() == 1,
                () -> "cancel keys=" + pgmux.get().server().runtime().cancels().size());
        ServerPool.Stats stats = pgmux.pool(ROLE).map(ServerPool::stats).orElse(null);
        if (stats != null) {
            assertThat(stats.open()).as("pool %s", stats).isLessThanOrEqualTo(POOL_SIZE);
        }
    }

    private static String describe(FuzzOutcome o, String problem) {
        return "#" + o.index() + " (" + o.kind() + ") " + problem + "; sent " + Wire.hex(o.input(), 64)
                + (o.drained() == null ? "" : "; got " + o.drained().messages());
    }

    private static FuzzOutcome fuzzOne(int index, Duration wait) {
        Random rnd = new Random(FUZZ_SEED * 31 + index);
        int kind = index % 6;
        byte[] input = fuzzInput(rnd, kind);
        String kindName = List.of("random", "startup-header", "random-parameters", "special-request",
                "garbage-after-startup", "flipped-startup").get(kind);
        try (WireClient raw = WireClient.connect(pgmux.get().sessionPort())) {
            try {
                raw.send(input);
            } catch (IOException e) {
                // pgmux already closed while we were still writing: that is closing too
            }
            return new FuzzOutcome(index, kindName, input, raw.drainUntilClosed(wait), null);
        } catch (IOException | RuntimeException e) {
            return new FuzzOutcome(index, kindName, input, null, e.toString());
        }
    }

    private static byte[] fuzzInput(Random rnd, int kind) {
        return switch (kind) {
            case 0 -> randomBytes(rnd, 1 + rnd.nextInt(512));
            case 1 -> {
                // A plausible length and protocol 3.0, then too few, just enough or too many random bytes.
                int length = 8 + rnd.nextInt(600);
                yield Wire.concat(ByteBuffer.allocate(8).putInt(length).putInt(Wire.PROTOCOL_3_0).array(),
                        randomBytes(rnd, rnd.nextInt(length + 64)));
            }
            case 2 -> {
                Map<String, String> parameters = new LinkedHashMap<>();
                int count = rnd.nextInt(5);
                for (int i = 0; i < count; i++) {
                    String name = switch (rnd.nextInt(5)) {
                        case 0 -> "user";
                        case 1 -> "database";
                        case 2 -> "options";
                        case 3 -> "_pq_." + randomText(rnd, 4);
                        default -> randomText(rnd, 1 + rnd.nextInt(12));
                    };
                    String value = rnd.nextInt(4) == 0 ? ROLE.name() + "." + PgmuxHarness.TENANT : randomText(rnd, rnd.nextInt(20));
                    parameters.put(name, value);
                }
                int version = rnd.nextInt(3) == 0 ? rnd.nextInt() : Wire.PROTOCOL_3_0 | rnd.nextInt(4);
                yield Wire.concat(Wire.startupPacket(version, parameters), randomBytes(rnd, rnd.nextInt(200)));
            }
            case 3 -> {
                int code = switch (rnd.nextInt(4)) {
                    case 0 -> Wire.SSL_REQUEST_CODE;
                    case 1 -> Wire.GSSENC_REQUEST_CODE;
                    case 2 -> Wire.CANCEL_REQUEST_CODE;
                    default -> rnd.nextInt();
                };
                int length = code == Wire.CANCEL_REQUEST_CODE ? 16 : 8;
                byte[] head = ByteBuffer.allocate(length).putInt(length).putInt(code).array();
                if (length == 16) {
                    ByteBuffer.wrap(head, 8, 8).putInt(rnd.nextInt()).putInt(rnd.nextInt());
                }
                yield Wire.concat(head, randomBytes(rnd, rnd.nextInt(300)));
            }
            case 4 -> {
                // A real user's startup, then a malformed SASLInitialResponse or arbitrary tagged bytes.
                byte[] startup = Wire.startupPacket(ROLE.name() + "." + PgmuxHarness.TENANT, "postgres");
                byte[] after = rnd.nextBoolean()
                        ? Wire.message('p', randomBytes(rnd, rnd.nextInt(120)))
                        : randomBytes(rnd, 1 + rnd.nextInt(300));
                yield Wire.concat(startup, after);
            }
            default -> {
                byte[] packet = Wire.startupPacket(ROLE.name() + "." + PgmuxHarness.TENANT, "postgres");
                int flips = 1 + rnd.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    packet[rnd.nextInt(packet.length)] = (byte) rnd.nextInt(256);
                }
                yield packet;
            }
        };
    }

    private static byte[] randomBytes(Random rnd, int n) {
        byte[] bytes = new byte[n];
        rnd.nextBytes(bytes);
        return bytes;
    }

    private static String randomText(Random rnd, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append((char) (0x21 + rnd.nextInt(0x5e)));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------

    private static Map<String, String> startupParameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", PgmuxHarness.tenantUser(ROLE));
        parameters.put("database", "postgres");
        return parameters;
    }

    private static WireClient loggedIn() throws IOException {
        return WireClient.login("bad client", "127.0.0.1", pgmux.get().sessionPort(), PgmuxHarness.tenantUser(ROLE),
                ROLE.password(), "postgres", Duration.ofSeconds(10));
    }

    /**
     * The connection was closed without a byte, as Postgres closes it on a startup packet of an impossible
     * length (or none at all): an error message there confuses clients that sent something else (node-postgres
     * throws it as an unhandled error after sending Terminate before its startup packet).
     */
    private static void assertClosedSilently(Drained drained) {
        assertThat(drained.closed()).as("closed by pgmux (after %d ms)", drained.sinceConnect().toMillis()).isTrue();
        assertThat(drained.bytes()).as("nothing sent before the close").isEmpty();
    }

    /** The connection was closed, and whatever came before the close was ErrorResponses with SQLSTATE 08P01. */
    private static void assertClosedWithOnly08P01(Drained drained) {
        assertThat(drained.closed()).as("closed by pgmux (after %d ms, got %s)", drained.sinceConnect().toMillis(),
                drained.messages()).isTrue();
        assertThat(BackendMessage.parseAll(drained.bytes()).stream().mapToInt(m -> 5 + m.payload().length).sum())
                .as("everything received is whole messages: %s", Wire.hex(drained.bytes(), 64))
                .isEqualTo(drained.bytes().length);
        assertThat(drained.messages()).as("only ErrorResponses before the close").allMatch(m -> m.tag() == 'E');
        assertThat(drained.errors()).as("SQLSTATE of the errors").allMatch(e -> "08P01".equals(e.sqlState()));
    }

    /**
     * The server a kicked client held either serves the next client of the same user (after its reset) or
     * is gone from Postgres; with one server per pool, the next client gets a server either way.
     */
    private static void assertServerReusedOrGone(int pid) throws Exception {
        try (Connection next = pgmux.get().connect(ROLE)) {
            int nextPid = Integer.parseInt(text(next, "SELECT pg_backend_pid()"));
            assertThat(idleOutsideTransaction(next)).as("the next client's server is outside any transaction").isTrue();
            if (nextPid != pid) {
                Wait.until("the server backend " + pid + " that was not reused is closed", Duration.ofSeconds(10),
                        () -> !backendAlive(pid));
            }
        }
        ServerPool.Stats stats = pgmux.pool(ROLE).map(ServerPool::stats).orElse(null);
        assertThat(stats).isNotNull();
        assertThat(stats.open()).as("pool %s", stats).isLessThanOrEqualTo(POOL_SIZE);
    }
}
