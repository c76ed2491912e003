package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Client and server sessions talking to each other with random nonces. */
class ScramExchangeTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ScramSecret SECRET = ScramSecret.generate("correct horse", RANDOM);

    /** Runs a whole exchange; returns the ClientKey the server recovered. */
    static byte[] login(ScramClientSession client, ScramServerSession server) throws ScramException {
        String serverFirst = server.handleClientFirst(client.mechanism(), client.clientFirstMessage());
        byte[] clientFinal = client.handleServerFirst(serverFirst.getBytes(StandardCharsets.US_ASCII));
        byte[] serverFinal = server.handleClientFinal(clientFinal);
        client.verifyServerFinal(serverFinal);
        return server.clientKey();
    }

    private static String saltOf(String serverFirst) {
        for (String attribute : serverFirst.split(",")) {
            if (attribute.startsWith("s=")) {
                return attribute.substring(2);
            }
        }
        throw new AssertionError("no salt in " + serverFirst);
    }

    @Test
    void rightPasswordLogsIn() throws Exception {
        ScramClientSession client = new ScramClientSession("correct horse", RANDOM);
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);

        byte[] clientKey = login(client, server);

        assertThat(client.isSucceeded()).isTrue();
        assertThat(server.isSucceeded()).isTrue();
        assertThat(ScramCrypto.sha256(clientKey)).isEqualTo(SECRET.storedKey());
    }

    @Test
    void clientFirstMessageHasTheLibpqShape() {
        String first = new String(new ScramClientSession("x", RANDOM).clientFirstMessage(), StandardCharsets.US_ASCII);
        assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
    }

    @Test
    void noncesAreFreshForEachSession() {
        String a = new String(new ScramClientSession("x", RANDOM).clientFirstMessage(), StandardCharsets.US_ASCII);
        String b = new String(new ScramClientSession("x", RANDOM).clientFirstMessage(), StandardCharsets.US_ASCII);
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void serverFirstMessageAppendsAnEighteenByteNonce() throws Exception {
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);
        String serverFirst = server.handleClientFirst("SCRAM-SHA-256", "n,,n=,r=clientnonce".getBytes(StandardCharsets.US_ASCII));
        assertThat(serverFirst).matches("r=clientnonce[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/=]+,i=4096");
        assertThat(saltOf(serverFirst)).isEqualTo(Base64.getEncoder().encodeToString(SECRET.salt()));
    }

    @Test
    void wrongPasswordIsInvalidProof() throws Exception {
        ScramClientSession client = new ScramClientSession("wrong horse", RANDOM);
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);

        assertThatThrownBy(() -> login(client, server))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
        assertThat(server.isSucceeded()).isFalse();
        assertThatThrownBy(server::clientKey).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void mockSessionAlwaysFailsWithInvalidProof() {
        byte[] mockKey = new byte[32];
        RANDOM.nextBytes(mockKey);
        for (String password : List.of("", "correct horse", "anything")) {
            ScramServerSession server = ScramServerSession.mock("ghost", mockKey, RANDOM);
            ScramClientSession client = new ScramClientSession(password, RANDOM);
            assertThatThrownBy(() -> login(client, server))
                    .isInstanceOfSatisfying(ScramException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
        }
    }

    @Test
    void doomedSessionRejectsEvenTheRightPassword() {
        // What makes a mock fail is the doomed flag, not only its unknowable keys.
        ScramServerSession doomed = new ScramServerSession(SECRET, true, RANDOM, null);
        assertThatThrownBy(() -> login(new ScramClientSession("correct horse", RANDOM), doomed))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
        assertThatThrownBy(doomed::clientKey).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void mockSessionLooksLikeARealOne() throws Exception {
        byte[] mockKey = "a mock key of thirty-two bytes!!".getBytes(StandardCharsets.US_ASCII);
        String mockFirst = ScramServerSession.mock("ghost", mockKey, RANDOM)
                .handleClientFirst("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII));
        String realFirst = ScramServerSession.forSecret(SECRET, RANDOM)
                .handleClientFirst("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII));
        String shape = "r=abc[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/]{22}==,i=4096";
        assertThat(mockFirst).matches(shape);
        assertThat(realFirst).matches(shape);
    }

    @Test
    void mockSaltIsStablePerUserAndDiffersBetweenUsers() throws Exception {
        byte[] mockKey = new byte[32];
        RANDOM.nextBytes(mockKey);
        byte[] first = "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII);

        String alice1 = saltOf(ScramServerSession.mock("alice", mockKey, RANDOM).handleClientFirst("SCRAM-SHA-256", first));
        String alice2 = saltOf(ScramServerSession.mock("alice", mockKey, RANDOM).handleClientFirst("SCRAM-SHA-256", first));
        String bob = saltOf(ScramServerSession.mock("bob", mockKey, RANDOM).handleClientFirst("SCRAM-SHA-256", first));
        byte[] otherKey = mockKey.clone();
        otherKey[0] ^= 1;
        String aliceOtherKey = saltOf(ScramServerSession.mock("alice", otherKey, RANDOM).handleClientFirst("SCRAM-SHA-256", first));

        assertThat(alice1).isEqualTo(alice2);
        assertThat(bob).isNotEqualTo(alice1);
        assertThat(aliceOtherKey).isNotEqualTo(alice1);
        assertThat(Base64.getDecoder().decode(alice1)).hasSize(16);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 16, 32, 64})
    void anySaltLengthWorks(int saltLength) throws Exception {
        byte[] salt = new byte[saltLength];
        RANDOM.nextBytes(salt);
        ScramSecret secret = ScramSecret.fromPassword("pw", salt, 4096);
        ScramServerSession server = ScramServerSession.forSecret(secret, RANDOM);
        ScramClientSession client = new ScramClientSession("pw", RANDOM);

        login(client, server);

        assertThat(client.isSucceeded()).isTrue();
        assertThat(ScramSecret.parse(secret.toVerifier()).salt()).isEqualTo(salt);
    }

    @Test
    void otherIterationCountsWork() throws Exception {
        ScramSecret secret = ScramSecret.fromPassword("pw", new byte[] {1, 2, 3}, 1);
        login(new ScramClientSession("pw", RANDOM), ScramServerSession.forSecret(secret, RANDOM));
        ScramSecret secret2 = ScramSecret.fromPassword("pw", new byte[] {1, 2, 3}, 10_000);
        login(new ScramClientSession("pw", RANDOM), ScramServerSession.forSecret(secret2, RANDOM));
        assertThatThrownBy(() -> login(new ScramClientSession("px", RANDOM), ScramServerSession.forSecret(secret2, RANDOM)))
                .isInstanceOf(ScramException.class);
    }

    @Test
    void nonAsciiPasswordsArePreparedTheSameWayOnBothSides() throws Exception {
        // U+2168 ROMAN NUMERAL NINE is NFKC-equivalent to "IX"; U+00AD is mapped to nothing.
        ScramSecret secret = ScramSecret.generate("p\u00E4ss\u2168", RANDOM);
        login(new ScramClientSession("p\u00E4\u00ADssIX", RANDOM), ScramServerSession.forSecret(secret, RANDOM));
        assertThatThrownBy(() -> login(new ScramClientSession("passIX", RANDOM), ScramServerSession.forSecret(secret, RANDOM)))
                .isInstanceOf(ScramException.class);
    }

    @Test
    void emptyPasswordDoesNotCrash() throws Exception {
        ScramSecret secret = ScramSecret.generate("", RANDOM);
        login(new ScramClientSession("", RANDOM), ScramServerSession.forSecret(secret, RANDOM));
    }

    @Test
    void keyPassthroughLogsInAgainWithoutThePassword() throws Exception {
        byte[] clientKey = login(new ScramClientSession("correct horse", RANDOM), ScramServerSession.forSecret(SECRET, RANDOM));

        ScramClientSession passthrough = ScramClientSession.fromKeys(clientKey, SECRET.serverKey(), RANDOM);
        ScramServerSession upstream = ScramServerSession.forSecret(SECRET, RANDOM);
        byte[] again = login(passthrough, upstream);

        assertThat(passthrough.isSucceeded()).isTrue();
        assertThat(again).isEqualTo(clientKey);
    }

    @Test
    void keyPassthroughWithAWrongClientKeyFails() throws Exception {
        byte[] clientKey = login(new ScramClientSession("correct horse", RANDOM), ScramServerSession.forSecret(SECRET, RANDOM));
        clientKey[5] ^= 0x40;
        ScramClientSession passthrough = ScramClientSession.fromKeys(clientKey, SECRET.serverKey(), RANDOM);
        assertThatThrownBy(() -> login(passthrough, ScramServerSession.forSecret(SECRET, RANDOM)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
    }

    @Test
    void clientRejectsAServerThatDoesNotKnowTheServerKey() throws Exception {
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);
        byte[] clientKey = login(new ScramClientSession("correct horse", RANDOM), server);
        byte[] wrongServerKey = SECRET.serverKey();
        wrongServerKey[0] ^= 1;
        ScramClientSession client = ScramClientSession.fromKeys(clientKey, wrongServerKey, RANDOM);
        // The server accepts the proof, but its signature does not match what this client expects.
        assertThatThrownBy(() -> login(client, ScramServerSession.forSecret(SECRET, RANDOM)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
        assertThat(client.isSucceeded()).isFalse();
    }

    @Test
    void fromKeysRejectsWrongKeyLengths() {
        assertThatThrownBy(() -> ScramClientSession.fromKeys(new byte[31], new byte[32], RANDOM))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramClientSession.fromKeys(new byte[32], new byte[0], RANDOM))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mechanisms() {
        assertThat(ScramServerSession.mechanisms()).containsExactly("SCRAM-SHA-256");
        assertThat(ScramClientSession.supports(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))).isTrue();
        assertThat(ScramClientSession.supports(List.of("SCRAM-SHA-256-PLUS"))).isFalse();
        assertThat(ScramClientSession.supports(List.of())).isFalse();
    }

    @Test
    void serverCallsOutOfOrderAreIllegalState() throws Exception {
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);
        assertThatThrownBy(() -> server.handleClientFinal("c=biws,r=x,p=AA==".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(server::clientKey).isInstanceOf(IllegalStateException.class);

        ScramServerSession twice = ScramServerSession.forSecret(SECRET, RANDOM);
        twice.handleClientFirst("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> twice.handleClientFirst("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);

        ScramServerSession done = ScramServerSession.forSecret(SECRET, RANDOM);
        login(new ScramClientSession("correct horse", RANDOM), done);
        assertThatThrownBy(() -> done.handleClientFinal("c=biws".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void serverFailureEndsTheExchange() throws Exception {
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);
        server.handleClientFirst("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> server.handleClientFinal("garbage".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> server.handleClientFinal("garbage".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void clientCallsOutOfOrderAreIllegalState() throws Exception {
        ScramClientSession client = new ScramClientSession("pw", RANDOM);
        assertThatThrownBy(() -> client.handleServerFirst("r=x,s=AA==,i=1".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> client.verifyServerFinal("v=AA==".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);
        client.clientFirstMessage();
        assertThatThrownBy(client::clientFirstMessage).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> client.verifyServerFinal("v=AA==".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalStateException.class);

        ScramClientSession done = new ScramClientSession("correct horse", RANDOM);
        ScramServerSession server = ScramServerSession.forSecret(SECRET, RANDOM);
        String serverFirst = server.handleClientFirst(done.mechanism(), done.clientFirstMessage());
        byte[] serverFinal = server.handleClientFinal(done.handleServerFirst(serverFirst.getBytes(StandardCharsets.US_ASCII)));
        done.verifyServerFinal(serverFinal);
        assertThatThrownBy(() -> done.verifyServerFinal(serverFinal)).isInstanceOf(IllegalStateException.class);
    }
}
