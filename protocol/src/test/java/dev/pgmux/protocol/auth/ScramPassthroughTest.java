package dev.pgmux.protocol.auth;

import static dev.pgmux.protocol.auth.ScramExchangeTest.login;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/**
 * SCRAM passthrough as a pooler holding only a verifier plays it: the ClientKey recovered from a client's
 * proof (ClientProof XOR HMAC(StoredKey, AuthMessage), checked by H(ClientKey) == StoredKey) logs in to a
 * server that holds the same verifier, and to no other.
 */
class ScramPassthroughTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PASSWORD = "correct horse";
    /** What Postgres stores for PASSWORD, read back from its text form as a configuration gives it. */
    private static final ScramSecret VERIFIER = ScramSecret.parse(ScramSecret.generate(PASSWORD, RANDOM).toVerifier());

    @Test
    void theRecoveredClientKeyIsTheOneThePasswordDerives() throws Exception {
        byte[] recovered = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));

        byte[] salted = ScramCrypto.saltedPassword(PASSWORD, VERIFIER.salt(), VERIFIER.iterations());
        assertThat(recovered).isEqualTo(ScramCrypto.clientKey(salted));
        assertThat(ScramCrypto.sha256(recovered)).isEqualTo(VERIFIER.storedKey());
    }

    @Test
    void recoveringTheKeyByHandMatchesTheSession() throws Exception {
        // The formula, step by step, against the messages of a real exchange.
        ScramClientSession client = new ScramClientSession(PASSWORD, RANDOM);
        ScramServerSession server = ScramServerSession.forSecret(VERIFIER, RANDOM);
        byte[] clientFirst = client.clientFirstMessage();
        String serverFirst = server.handleClientFirst(client.mechanism(), clientFirst);
        byte[] clientFinal = client.handleServerFirst(serverFirst.getBytes(StandardCharsets.US_ASCII));
        server.handleClientFinal(clientFinal);

        String finalText = new String(clientFinal, StandardCharsets.ISO_8859_1);
        int proofAt = finalText.indexOf(",p=");
        String authMessage = new String(clientFirst, StandardCharsets.ISO_8859_1).substring(3) + "," + serverFirst
                + "," + finalText.substring(0, proofAt);
        byte[] proof = java.util.Base64.getDecoder().decode(finalText.substring(proofAt + 3));
        byte[] clientKey = ScramCrypto.xor(proof,
                ScramCrypto.hmac(VERIFIER.storedKey(), authMessage.getBytes(StandardCharsets.ISO_8859_1)));

        assertThat(clientKey).isEqualTo(server.clientKey());
    }

    @Test
    void passthroughLogsInToAServerWithTheSameVerifierAndChecksItsSignature() throws Exception {
        byte[] clientKey = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));

        ScramClientSession upstream = ScramClientSession.passthrough(VERIFIER, clientKey, RANDOM);
        byte[] again = login(upstream, ScramServerSession.forSecret(VERIFIER, RANDOM));

        assertThat(upstream.isSucceeded()).isTrue();
        assertThat(again).isEqualTo(clientKey);
    }

    @Test
    void aServerWithAnotherSaltIsRefusedBeforeAnyProofIsSent() throws Exception {
        byte[] clientKey = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));
        ScramSecret resalted = ScramSecret.generate(PASSWORD, RANDOM); // same password, another salt

        ScramClientSession upstream = ScramClientSession.passthrough(VERIFIER, clientKey, RANDOM);
        ScramServerSession server = ScramServerSession.forSecret(resalted, RANDOM);
        String serverFirst = server.handleClientFirst(upstream.mechanism(), upstream.clientFirstMessage());

        assertThatThrownBy(() -> upstream.handleServerFirst(serverFirst.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.SECRET_MISMATCH));
        assertThat(upstream.isSucceeded()).isFalse();
    }

    @Test
    void aServerWithAnotherIterationCountIsRefused() throws Exception {
        byte[] clientKey = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));
        ScramSecret moreIterations = ScramSecret.fromPassword(PASSWORD, VERIFIER.salt(), VERIFIER.iterations() + 1);

        ScramClientSession upstream = ScramClientSession.passthrough(VERIFIER, clientKey, RANDOM);

        assertThatThrownBy(() -> login(upstream, ScramServerSession.forSecret(moreIterations, RANDOM)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.SECRET_MISMATCH));
    }

    @Test
    void aServerThatDoesNotKnowTheServerKeyIsRefused() throws Exception {
        byte[] clientKey = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));
        byte[] otherServerKey = VERIFIER.serverKey();
        otherServerKey[0] ^= 1;
        // A server with the same salt, iterations and StoredKey accepts the proof, but signs with another ServerKey.
        ScramSecret impostor = new ScramSecret(VERIFIER.iterations(), VERIFIER.salt(), VERIFIER.storedKey(), otherServerKey);

        ScramClientSession upstream = ScramClientSession.passthrough(VERIFIER, clientKey, RANDOM);

        assertThatThrownBy(() -> login(upstream, ScramServerSession.forSecret(impostor, RANDOM)))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
    }

    @Test
    void aClientKeyOfAnotherVerifierIsNotAccepted() throws Exception {
        byte[] clientKey = login(new ScramClientSession(PASSWORD, RANDOM), ScramServerSession.forSecret(VERIFIER, RANDOM));
        clientKey[3] ^= 0x10;

        assertThatIllegalArgumentException().isThrownBy(() -> ScramClientSession.passthrough(VERIFIER, clientKey, RANDOM))
                .withMessageNotContaining(java.util.Base64.getEncoder().encodeToString(clientKey));
        assertThatIllegalArgumentException().isThrownBy(() -> ScramClientSession.passthrough(VERIFIER, new byte[16], RANDOM));
    }

    @Test
    void aWrongPasswordYieldsNoClientKey() throws Exception {
        ScramServerSession server = ScramServerSession.forSecret(VERIFIER, RANDOM);

        assertThatThrownBy(() -> login(new ScramClientSession("battery staple", RANDOM), server))
                .isInstanceOfSatisfying(ScramException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScramException.Kind.INVALID_PROOF));
        assertThatThrownBy(server::clientKey).isInstanceOf(IllegalStateException.class);
    }
}
