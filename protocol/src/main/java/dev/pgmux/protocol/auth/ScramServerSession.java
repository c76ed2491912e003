package dev.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), played by pgmux towards a
 * client the way Postgres plays it ({@code auth-scram.c}):
 *
 * <ol>
 *   <li>{@link #handleClientFirst} takes the mechanism and client-first-message of
 *       SASLInitialResponse and returns the server-first-message for AuthenticationSASLContinue;</li>
 *   <li>{@link #handleClientFinal} takes the client-final-message of SASLResponse, checks the
 *       proof and returns the server-final-message for AuthenticationSASLFinal.</li>
 * </ol>
 *
 * <p>Channel binding ({@code SCRAM-SHA-256-PLUS}) is not offered. The user name inside the SCRAM
 * message is ignored, as in Postgres: the user comes from the startup packet. A {@link #mock}
 * session for an unknown user behaves exactly like a real one and fails at the proof check, so
 * unknown users cannot be told apart from wrong passwords.
 *
 * <p>Not thread-safe: one instance per login, used from one thread at a time. Any failure ends the
 * exchange; further calls throw {@link IllegalStateException}.
 */
public final class ScramServerSession {

    private static final List<String> MECHANISMS = List.of(ScramCrypto.MECHANISM);

    private enum State { INITIAL, CONTINUE, SUCCEEDED, FAILED }

    private final ScramSecret secret;
    /** True for a mock exchange: the proof check always fails. */
    private final boolean doomed;
    private final SecureRandom random;
    /** Only for known-answer tests; null means a fresh random nonce. */
    private final String fixedServerNonce;

    private State state = State.INITIAL;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private byte[] clientKey;

    ScramServerSession(ScramSecret secret, boolean doomed, SecureRandom random, String fixedServerNonce) {
        this.secret = Objects.requireNonNull(secret, "secret");
        this.doomed = doomed;
        this.random = Objects.requireNonNull(random, "random");
        this.fixedServerNonce = fixedServerNonce;
    }

    /** An exchange for a user whose secret is known. */
    public static ScramServerSession forSecret(ScramSecret secret, SecureRandom random) {
        return new ScramServerSession(secret, false, random, null);
    }

    /**
     * An exchange for an unknown user that looks exactly like a real one and always ends with
     * {@link ScramException.Kind#INVALID_PROOF}. The salt is derived from {@code mockKey} and the
     * user name, so repeated attempts for the same name see the same salt; keep {@code mockKey}
     * secret, at least 16 random bytes, and stable (for example across restarts) if possible.
     */
    public static ScramServerSession mock(String username, byte[] mockKey, SecureRandom random) {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(mockKey, "mockKey");
        Objects.requireNonNull(random, "random");
        if (mockKey.length == 0) {
            throw new IllegalArgumentException("mock key must not be empty");
        }
        byte[] digest = ScramCrypto.hmac(mockKey, username.getBytes(StandardCharsets.UTF_8));
        byte[] salt = Arrays.copyOf(digest, ScramCrypto.DEFAULT_SALT_LENGTH);
        byte[] storedKey = new byte[ScramCrypto.KEY_LENGTH];
        byte[] serverKey = new byte[ScramCrypto.KEY_LENGTH];
        random.nextBytes(storedKey);
        random.nextBytes(serverKey);
        ScramSecret fake = new ScramSecret(ScramCrypto.DEFAULT_ITERATIONS, salt, storedKey, serverKey);
        return new ScramServerSession(fake, true, random, null);
    }

    /** The mechanisms to list in AuthenticationSASL: {@code ["SCRAM-SHA-256"]}. */
    public static List<String> mechanisms() {
        return MECHANISMS;
    }

    /**
     * Processes the client-first-message and returns the server-first-message
     * ({@code r=<client nonce><server nonce>,s=<salt>,i=<iterations>}).
     *
     * @throws ScramException        {@link ScramException.Kind#MALFORMED} if the mechanism is not
     *                               SCRAM-SHA-256 or the message is not acceptable
     * @throws IllegalStateException if called twice or after a failure
     */
    public String handleClientFirst(String mechanism, byte[] clientFirstMessage) throws ScramException {
        Objects.requireNonNull(clientFirstMessage, "clientFirstMessage");
        if (state != State.INITIAL) {
            throw new IllegalStateException("client-first-message already processed");
        }
        state = State.FAILED;
        if (!ScramCrypto.MECHANISM.equals(mechanism)) {
            throw new ScramException(ScramException.Kind.MALFORMED,
                    "client selected an invalid SASL authentication mechanism");
        }
        ScramParser p = ScramParser.of(clientFirstMessage);
        String text = p.text();
        if (text.isEmpty()) {
            throw ScramException.malformed("empty client-first-message");
        }
        char flag = text.charAt(0);
        switch (flag) {
            case 'n', 'y' -> {
                // 'y': the client supports channel binding but thinks we do not; we indeed do not.
            }
            case 'p' -> throw ScramException.malformed(
                    "the client requested channel binding, but SCRAM-SHA-256-PLUS was not offered");
            default -> throw ScramException.malformed(
                    "unexpected channel-binding flag " + ScramParser.describe(flag));
        }
        if (text.length() < 2 || text.charAt(1) != ',') {
            throw ScramException.malformed("comma expected after the channel-binding flag");
        }
        if (text.length() < 3) {
            throw ScramException.malformed("unexpected end of client-first-message");
        }
        char third = text.charAt(2);
        if (third == 'a') {
            throw ScramException.malformed("authorization identity (\"a=\") is not supported");
        }
        if (third != ',') {
            throw ScramException.malformed(
                    "unexpected attribute " + ScramParser.describe(third) + " in client-first-message");
        }
        ScramParser bare = new ScramParser(text.substring(3));
        if (bare.peek() == 'm') {
            throw ScramException.malformed("client requires an unsupported SCRAM extension (\"m=\")");
        }
        bare.expect('n'); // user name: ignored, the user comes from the startup packet
        String clientNonce = bare.expect('r');
        if (!ScramCrypto.isPrintableNonce(clientNonce)) {
            throw ScramException.malformed("empty nonce or non-printable characters in nonce");
        }
        while (!bare.atEnd()) {
            bare.any(); // optional extensions are ignored
        }
        bare.expectEnd("client-first-message");

        String serverNonce = fixedServerNonce != null ? fixedServerNonce : ScramCrypto.newNonce(random);
        this.gs2Header = text.substring(0, 3);
        this.clientFirstBare = bare.text();
        this.nonce = clientNonce + serverNonce;
        this.serverFirst = "r=" + nonce + ",s=" + ScramCrypto.base64(secret.saltRef()) + ",i=" + secret.iterations();
        state = State.CONTINUE;
        return serverFirst;
    }

    /**
     * Processes the client-final-message, checks the proof and returns the server-final-message
     * ({@code v=<server signature>}).
     *
     * @throws ScramException        {@link ScramException.Kind#INVALID_PROOF} on a wrong password (and
     *                               always for a mock session), {@link ScramException.Kind#MALFORMED}
     *                               if the message is not acceptable
     * @throws IllegalStateException if the client-first-message was not processed, or called twice
     */
    public byte[] handleClientFinal(byte[] clientFinalMessage) throws ScramException {
        Objects.requireNonNull(clientFinalMessage, "clientFinalMessage");
        if (state != State.CONTINUE) {
            throw new IllegalStateException(state == State.INITIAL
                    ? "client-first-message not processed yet" : "SCRAM exchange already finished");
        }
        state = State.FAILED;
        ScramParser p = ScramParser.of(clientFinalMessage);

        String channelBinding = p.expect('c');
        String expectedBinding = ScramCrypto.base64(gs2Header.getBytes(StandardCharsets.ISO_8859_1));
        if (!expectedBinding.equals(channelBinding)) {
            throw ScramException.malformed("unexpected channel-binding attribute in client-final-message");
        }
        String finalNonce = p.expect('r');
        ScramParser.Attribute proofAttribute;
        do {
            if (p.atEnd()) {
                throw ScramException.malformed("proof (\"p=\") missing in client-final-message");
            }
            proofAttribute = p.any(); // extensions before the proof are ignored
        } while (proofAttribute.name() != 'p');
        byte[] proof = ScramCrypto.base64DecodeOrNull(proofAttribute.value());
        if (proof == null || proof.length != ScramCrypto.KEY_LENGTH) {
            throw ScramException.malformed("malformed proof in client-final-message");
        }
        p.expectEnd("client-final-message");
        if (!nonce.equals(finalNonce)) {
            throw ScramException.malformed("nonce does not match");
        }

        String withoutProof = p.text().substring(0, proofAttribute.start() - 1);
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] clientSignature = ScramCrypto.hmac(secret.storedKeyRef(), authMessage);
        byte[] recoveredClientKey = ScramCrypto.xor(proof, clientSignature);
        boolean proofMatches = MessageDigest.isEqual(ScramCrypto.sha256(recoveredClientKey), secret.storedKeyRef());
        if (!proofMatches || doomed) {
            throw new ScramException(ScramException.Kind.INVALID_PROOF, "SCRAM proof does not match");
        }
        byte[] serverSignature = ScramCrypto.hmac(secret.serverKeyRef(), authMessage);
        this.clientKey = recoveredClientKey;
        state = State.SUCCEEDED;
        return ("v=" + ScramCrypto.base64(serverSignature)).getBytes(StandardCharsets.US_ASCII);
    }

    /** True once the client's proof was accepted. */
    public boolean isSucceeded() {
        return state == State.SUCCEEDED;
    }

    /**
     * The client's ClientKey, recovered from its proof; with the secret's ServerKey it lets pgmux
     * log in upstream as this user without the password ({@link ScramClientSession#fromKeys}).
     *
     * @throws IllegalStateException unless the exchange succeeded
     */
    public byte[] clientKey() {
        if (state != State.SUCCEEDED) {
            throw new IllegalStateException("no ClientKey: the SCRAM exchange has not succeeded");
        }
        return clientKey.clone();
    }
}
