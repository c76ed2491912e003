package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Malformed SCRAM messages give ScramException MALFORMED, never an unchecked crash. */
class ScramMalformedTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ScramSecret SECRET = ScramSecret.fromPassword("pw", new byte[16], 4096);
    private static final String SERVER_NONCE = "SERVERNONCE";
    private static final String PROOF = Base64.getEncoder().encodeToString(new byte[32]);

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void assertMalformed(ThrowingCallable call, String messagePart) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ScramException.class);
        ScramException e = (ScramException) thrown;
        assertThat(e.kind()).isEqualTo(ScramException.Kind.MALFORMED);
        assertThat(e.getMessage()).contains(messagePart);
    }

    private static ScramServerSession server() {
        return new ScramServerSession(SECRET, false, RANDOM, SERVER_NONCE);
    }

    /** A server session that has processed "n,,n=,r=abc". */
    private static ScramServerSession serverAfterFirst(String gs2Header) throws ScramException {
        ScramServerSession server = server();
        server.handleClientFirst("SCRAM-SHA-256", bytes(gs2Header + "n=,r=abc"));
        return server;
    }

    // ---- client-first-message, server side ----

    @Test
    void wrongMechanism() {
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256-PLUS", bytes("p=tls-server-end-point,,n=,r=abc")),
                "mechanism");
        assertMalformed(() -> server().handleClientFirst("PLAIN", bytes("n,,n=,r=abc")), "mechanism");
        assertMalformed(() -> server().handleClientFirst(null, bytes("n,,n=,r=abc")), "mechanism");
    }

    @Test
    void channelBindingRequestedButNotOffered() {
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256", bytes("p=tls-server-end-point,,n=,r=abc")),
                "channel binding");
    }

    @Test
    void authorizationIdentityIsRejected() {
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256", bytes("n,a=admin,n=,r=abc")),
                "authorization identity");
    }

    @Test
    void reservedMandatoryExtensionIsRejected() {
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256", bytes("n,,m=ext,n=,r=abc")), "\"m=\"");
    }

    @Test
    void yFlagIsAccepted() throws Exception {
        String serverFirst = server().handleClientFirst("SCRAM-SHA-256", bytes("y,,n=,r=abc"));
        assertThat(serverFirst).startsWith("r=abc" + SERVER_NONCE + ",s=");
    }

    @Test
    void userNameIsIgnored() throws Exception {
        String serverFirst = server().handleClientFirst("SCRAM-SHA-256", bytes("n,,n=somebody=2Celse,r=abc"));
        assertThat(serverFirst).startsWith("r=abc" + SERVER_NONCE + ",s=");
    }

    @Test
    void extensionsAfterTheNonceAreIgnored() throws Exception {
        String serverFirst = server().handleClientFirst("SCRAM-SHA-256", bytes("n,,n=,r=abc,x=whatever"));
        assertThat(serverFirst).startsWith("r=abc" + SERVER_NONCE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",                   // empty
            "n",                  // no comma
            "n,",                 // truncated header
            "x,,n=,r=abc",        // unknown channel-binding flag
            "n;,n=,r=abc",        // no comma after the flag
            "n,b=x,n=,r=abc",     // something else than an authzid
            "n,,",                // nothing after the header
            "n,,r=abc",           // n= missing
            "n,,n=",              // r= missing
            "n,,n=,r",            // r without "="
            "n,,n=,x=abc",        // wrong attribute instead of r
            "n,,n=,r=",           // empty nonce
            "n,,n=,r=ab\u0001c",  // non-printable nonce
            "n,,n=,r=ab\u00e9c",  // non-ASCII nonce
            "n,,n=,r=abc,",       // trailing comma
            "n,,n=,r=abc,1=x",    // invalid extension name
            "n,,n=,r=abc,x",      // extension without value
    })
    void malformedClientFirst(String message) {
        Throwable thrown = catchThrowable(() -> server().handleClientFirst("SCRAM-SHA-256", bytes(message)));
        assertThat(thrown).isInstanceOfSatisfying(ScramException.class,
                e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.MALFORMED));
        assertThat(thrown.getMessage()).startsWith("malformed SCRAM message (");
    }

    @Test
    void errorMessagesNameTheOffendingCharacter() {
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256", bytes("n,,n=,r=abc,1=x")),
                "attribute expected, but found invalid character \"1\"");
        assertMalformed(() -> server().handleClientFirst("SCRAM-SHA-256", bytes("n,,n=,x=abc")),
                "attribute \"r\" expected, but found \"x\"");
    }

    // ---- client-final-message, server side ----

    @Test
    void wrongChannelBinding() throws Exception {
        ScramServerSession withN = serverAfterFirst("n,,");
        assertMalformed(() -> withN.handleClientFinal(bytes("c=eSws,r=abc" + SERVER_NONCE + ",p=" + PROOF)),
                "channel-binding");
        ScramServerSession withY = serverAfterFirst("y,,");
        assertMalformed(() -> withY.handleClientFinal(bytes("c=biws,r=abc" + SERVER_NONCE + ",p=" + PROOF)),
                "channel-binding");
    }

    @Test
    void matchingChannelBindingForYFlagGetsToTheProofCheck() throws Exception {
        ScramServerSession withY = serverAfterFirst("y,,");
        assertThatThrownBy(() -> withY.handleClientFinal(bytes("c=eSws,r=abc" + SERVER_NONCE + ",p=" + PROOF)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
    }

    @Test
    void nonceMismatch() throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        assertMalformed(() -> server.handleClientFinal(bytes("c=biws,r=abcOTHER,p=" + PROOF)), "nonce does not match");
    }

    @Test
    void badBase64Proof() throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        assertMalformed(() -> server.handleClientFinal(bytes("c=biws,r=abc" + SERVER_NONCE + ",p=!!not*base64")), "proof");
    }

    @Test
    void proofOfWrongLength() throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        assertMalformed(() -> server.handleClientFinal(bytes("c=biws,r=abc" + SERVER_NONCE + ",p=AAAA")), "proof");
    }

    @Test
    void missingProof() throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        assertMalformed(() -> server.handleClientFinal(bytes("c=biws,r=abc" + SERVER_NONCE)), "proof");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "r=abcSERVERNONCE,c=biws,p=" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  // c= not first
            "c=biws",                                                                    // r= missing
            "c=biws,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",                     // r= missing
            "c=biws,r=abcSERVERNONCE,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,x=1", // garbage after proof
            "c=biws,r=abcSERVERNONCE,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,",   // trailing comma
            "c=biws,r=abcSERVERNONCE,#=1,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // invalid extension
            "c=biws,r=abcSERVERNONCE,p",                                                  // p without "="
    })
    void malformedClientFinal(String message) throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        Throwable thrown = catchThrowable(() -> server.handleClientFinal(bytes(message)));
        assertThat(thrown).isInstanceOfSatisfying(ScramException.class,
                e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.MALFORMED));
    }

    @Test
    void extensionsBeforeTheProofAreIgnored() throws Exception {
        ScramServerSession server = serverAfterFirst("n,,");
        assertThatThrownBy(() -> server.handleClientFinal(bytes("c=biws,r=abc" + SERVER_NONCE + ",x=1,p=" + PROOF)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
    }

    @Test
    void mockSessionStillReportsMalformedMessages() throws Exception {
        ScramServerSession mock = ScramServerSession.mock("ghost", new byte[] {1, 2, 3}, RANDOM);
        String serverFirst = mock.handleClientFirst("SCRAM-SHA-256", bytes("n,,n=,r=abc"));
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        assertMalformed(() -> mock.handleClientFinal(bytes("c=eSws,r=" + nonce + ",p=" + PROOF)), "channel-binding");
    }

    // ---- server messages, client side ----

    private static ScramClientSession client(String nonce) {
        ScramClientSession client = new ScramClientSession(null, new byte[32], new byte[32], nonce, "");
        client.clientFirstMessage();
        return client;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "r=otherSERVER,s=AAAA,i=4096",   // nonce does not start with ours
            "r=abc,s=AAAA,i=4096",           // server added no nonce of its own
            "r=abcS\u0001,s=AAAA,i=4096",    // non-printable nonce
            "r=abcSERVER,s=!!!,i=4096",      // salt not base64
            "r=abcSERVER,i=4096",            // salt missing
            "r=abcSERVER,s=AAAA",            // iterations missing
            "r=abcSERVER,s=AAAA,i=0",
            "r=abcSERVER,s=AAAA,i=-1",
            "r=abcSERVER,s=AAAA,i=+5",
            "r=abcSERVER,s=AAAA,i=abc",
            "r=abcSERVER,s=AAAA,i=",
            "r=abcSERVER,s=AAAA,i=99999999999",
            "r=abcSERVER,s=AAAA,i=4096,",    // trailing comma
            "m=ext,r=abcSERVER,s=AAAA,i=4096",
            "e=other-error",
            "s=AAAA,r=abcSERVER,i=4096",
    })
    void malformedServerFirst(String message) {
        Throwable thrown = catchThrowable(() -> client("abc").handleServerFirst(bytes(message)));
        assertThat(thrown).isInstanceOfSatisfying(ScramException.class,
                e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.MALFORMED));
    }

    @Test
    void serverFirstWithExtensionsAndOddSaltIsAccepted() throws Exception {
        assertThat(client("abc").handleServerFirst(bytes("r=abcSERVER,s=AQID,i=1,x=ext"))).isNotEmpty();
    }

    private static ScramClientSession clientAwaitingFinal() throws ScramException {
        ScramClientSession client = client("abc");
        client.handleServerFirst(bytes("r=abcSERVER,s=AAAA,i=4096"));
        return client;
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "v=", "v=!!!", "v=AAAA", "x=1", "v=" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,"})
    void malformedServerFinal(String message) throws Exception {
        ScramClientSession client = clientAwaitingFinal();
        Throwable thrown = catchThrowable(() -> client.verifyServerFinal(bytes(message)));
        assertThat(thrown).isInstanceOfSatisfying(ScramException.class,
                e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.MALFORMED));
    }

    @Test
    void serverErrorInServerFinal() throws Exception {
        ScramClientSession client = clientAwaitingFinal();
        assertThatThrownBy(() -> client.verifyServerFinal(bytes("e=invalid-proof")))
                .isInstanceOfSatisfying(ScramException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ScramException.Kind.SERVER_ERROR);
                    assertThat(e.getMessage()).contains("invalid-proof");
                });
    }

    @Test
    void wrongServerSignature() throws Exception {
        ScramClientSession client = clientAwaitingFinal();
        assertThatThrownBy(() -> client.verifyServerFinal(bytes("v=" + PROOF)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
    }

    // ---- mutation fuzzing: only ScramException may come out ----

    @Test
    void mutatedMessagesNeverCrash() throws Exception {
        Random random = new Random(5802);
        byte[] clientFirst = bytes("n,,n=,r=abc");
        byte[] clientFinal = bytes("c=biws,r=abc" + SERVER_NONCE + ",p=" + PROOF);
        byte[] serverFirst = bytes("r=abcSERVER,s=AAAA,i=4096");
        byte[] serverFinal = bytes("v=" + PROOF);
        for (int n = 0; n < 3000; n++) {
            byte[] first = mutate(clientFirst, random);
            expectOnlyScramException(() -> server().handleClientFirst("SCRAM-SHA-256", first));
            byte[] fin = mutate(clientFinal, random);
            ScramServerSession server = serverAfterFirst("n,,");
            expectOnlyScramException(() -> server.handleClientFinal(fin));
            byte[] sFirst = mutate(serverFirst, random);
            expectOnlyScramException(() -> client("abc").handleServerFirst(sFirst));
            byte[] sFinal = mutate(serverFinal, random);
            ScramClientSession client = clientAwaitingFinal();
            expectOnlyScramException(() -> client.verifyServerFinal(sFinal));
        }
    }

    private static void expectOnlyScramException(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        if (thrown != null) {
            assertThat(thrown).isInstanceOf(ScramException.class);
        }
    }

    private static final byte[] INTERESTING = bytes(",=abcnpmrvsiex0 \u0000\u00ff");

    private static byte[] mutate(byte[] message, Random random) {
        byte[] out = message.clone();
        switch (random.nextInt(4)) {
            case 0 -> out[random.nextInt(out.length)] = INTERESTING[random.nextInt(INTERESTING.length)];
            case 1 -> out[random.nextInt(out.length)] = (byte) random.nextInt(256);
            case 2 -> out = java.util.Arrays.copyOf(out, random.nextInt(out.length));
            default -> {
                int at = random.nextInt(out.length + 1);
                byte[] longer = new byte[out.length + 1];
                System.arraycopy(out, 0, longer, 0, at);
                longer[at] = INTERESTING[random.nextInt(INTERESTING.length)];
                System.arraycopy(out, at, longer, at + 1, out.length - at);
                out = longer;
            }
        }
        return out;
    }
}
