package dev.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;

/**
 * The client side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), played by pgmux towards a
 * Postgres server:
 *
 * <ol>
 *   <li>{@link #mechanism()} and {@link #clientFirstMessage()} go into SASLInitialResponse;</li>
 *   <li>{@link #handleServerFirst} takes AuthenticationSASLContinue and returns the
 *       client-final-message for SASLResponse;</li>
 *   <li>{@link #verifyServerFinal} checks AuthenticationSASLFinal: the server must prove that it
 *       knows the secret too.</li>
 * </ol>
 *
 * <p>A session is built either from the password ({@link #ScramClientSession(String,
 * SecureRandom)}; {@link #handleServerFirst} then runs PBKDF2 and is CPU-heavy) or, for SCRAM key
 * passthrough, from a ClientKey and ServerKey ({@link #fromKeys}). No channel binding is used
 * ({@code n,,}); the user name is left empty, as libpq does, since Postgres takes it from the
 * startup packet.
 *
 * <p>Not thread-safe: one instance per login. Any failure ends the exchange; further calls throw
 * {@link IllegalStateException}.
 */
public final class ScramClientSession {

    private static final String GS2_HEADER = "n,,";
    /** base64("n,,"). */
    private static final String CHANNEL_BINDING = "biws";

    private enum State { INITIAL, FIRST_SENT, FINAL_SENT, SUCCEEDED, FAILED }

    /** Null when built from keys. */
    private final String password;
    private final byte[] givenClientKey;
    private final byte[] givenServerKey;
    /** Passthrough from a verifier: the salt and iteration count the server must announce; else null and 0. */
    private byte[] expectedSalt;
    private int expectedIterations;
    private final String clientNonce;
    private final String clientFirstBare;

    private State state = State.INITIAL;
    private byte[] expectedServerSignature;

    /** A session that logs in with {@code password}. */
    public ScramClientSession(String password, SecureRandom random) {
        this(Objects.requireNonNull(password, "password"), null, null,
                ScramCrypto.newNonce(Objects.requireNonNull(random, "random")), "");
    }

    /**
     * A session that logs in with keys instead of the password (SCRAM key passthrough): the
     * ClientKey recovered by {@link ScramServerSession#clientKey()} and the ServerKey of the same
     * secret.
     */
    public static ScramClientSession fromKeys(byte[] clientKey, byte[] serverKey, SecureRandom random) {
        Objects.requireNonNull(clientKey, "clientKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (clientKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 ClientKey and ServerKey must be 32 bytes");
        }
        return new ScramClientSession(null, clientKey.clone(), serverKey.clone(),
                ScramCrypto.newNonce(Objects.requireNonNull(random, "random")), "");
    }

    /**
     * SCRAM passthrough from a stored verifier: logs in with the ClientKey recovered from a client's proof
     * against {@code verifier} ({@link ScramServerSession#clientKey()}) and the verifier's ServerKey. The
     * keys answer only a server that holds the same verifier: {@link #handleServerFirst} refuses a salt or
     * iteration count other than the verifier's with {@link ScramException.Kind#SECRET_MISMATCH}.
     *
     * @throws IllegalArgumentException if {@code clientKey} is not the verifier's (H(ClientKey) != StoredKey)
     */
    public static ScramClientSession passthrough(ScramSecret verifier, byte[] clientKey, SecureRandom random) {
        Objects.requireNonNull(verifier, "verifier");
        Objects.requireNonNull(clientKey, "clientKey");
        if (clientKey.length != ScramCrypto.KEY_LENGTH
                || !MessageDigest.isEqual(ScramCrypto.sha256(clientKey), verifier.storedKeyRef())) {
            throw new IllegalArgumentException("the ClientKey does not belong to this SCRAM verifier");
        }
        ScramClientSession session = fromKeys(clientKey, verifier.serverKeyRef(), random);
        session.expectedSalt = verifier.salt();
        session.expectedIterations = verifier.iterations();
        return session;
    }

    /**
     * Full control, for known-answer tests: either {@code password} or both keys; the nonce and the
     * user name to put in {@code n=}.
     */
    ScramClientSession(String password, byte[] clientKey, byte[] serverKey, String nonce, String username) {
        this.password = password;
        this.givenClientKey = clientKey;
        this.givenServerKey = serverKey;
        this.clientNonce = Objects.requireNonNull(nonce, "nonce");
        if (!ScramCrypto.isPrintableNonce(nonce)) {
            throw new IllegalArgumentException("nonce must be printable ASCII without commas");
        }
        // Messages are handled as ISO-8859-1 text of their bytes; the name goes in as UTF-8.
        String name = new String(escapeSaslName(username).getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        this.clientFirstBare = "n=" + name + ",r=" + nonce;
    }

    /** The mechanism to name in SASLInitialResponse: {@code SCRAM-SHA-256}. */
    public String mechanism() {
        return ScramCrypto.MECHANISM;
    }

    /** Whether the mechanisms listed in AuthenticationSASL include SCRAM-SHA-256. */
    public static boolean supports(List<String> mechanisms) {
        return mechanisms != null && mechanisms.contains(ScramCrypto.MECHANISM);
    }

    /**
     * The client-first-message ({@code n,,n=,r=<nonce>}).
     *
     * @throws IllegalStateException if already called
     */
    public byte[] clientFirstMessage() {
        if (state != State.INITIAL) {
            throw new IllegalStateException("client-first-message already sent");
        }
        state = State.FIRST_SENT;
        return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Processes the server-first-message and returns the client-final-message with the proof.
     *
     * @throws ScramException        {@link ScramException.Kind#MALFORMED} if the message is not
     *                               acceptable (nonce not extending ours, bad salt or iteration
     *                               count, ...)
     * @throws IllegalStateException if the client-first-message was not produced, or called twice
     */
    public byte[] handleServerFirst(byte[] serverFirstMessage) throws ScramException {
        Objects.requireNonNull(serverFirstMessage, "serverFirstMessage");
        if (state != State.FIRST_SENT) {
            throw new IllegalStateException(state == State.INITIAL
                    ? "client-first-message not sent yet" : "server-first-message already processed");
        }
        state = State.FAILED;
        ScramParser p = ScramParser.of(serverFirstMessage);
        if (p.peek() == 'm') {
            throw ScramException.malformed("server requires an unsupported SCRAM extension (\"m=\")");
        }
        String nonce = p.expect('r');
        if (nonce.length() <= clientNonce.length() || !nonce.startsWith(clientNonce)) {
            throw ScramException.malformed("server nonce does not extend the client nonce");
        }
        if (!ScramCrypto.isPrintableNonce(nonce)) {
            throw ScramException.malformed("non-printable characters in server nonce");
        }
        byte[] salt = ScramCrypto.base64DecodeOrNull(p.expect('s'));
        if (salt == null) {
            throw ScramException.malformed("invalid salt");
        }
        int iterations = parseIterations(p.expect('i'));
        if (iterations < 1) {
            throw ScramException.malformed("invalid iteration count");
        }
        while (!p.atEnd()) {
            p.any(); // extensions are ignored
        }
        p.expectEnd("server-first-message");
        if (expectedSalt != null && (iterations != expectedIterations || !MessageDigest.isEqual(salt, expectedSalt))) {
            throw new ScramException(ScramException.Kind.SECRET_MISMATCH,
                    "the server's SCRAM salt or iteration count differs from the verifier's");
        }

        byte[] clientKey;
        byte[] serverKey;
        if (password != null) {
            byte[] salted = ScramCrypto.saltedPassword(password, salt, iterations);
            clientKey = ScramCrypto.clientKey(salted);
            serverKey = ScramCrypto.serverKey(salted);
        } else {
            clientKey = givenClientKey;
            serverKey = givenServerKey;
        }
        String withoutProof = "c=" + CHANNEL_BINDING + ",r=" + nonce;
        byte[] authMessage = (clientFirstBare + "," + p.text() + "," + withoutProof)
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] storedKey = ScramCrypto.sha256(clientKey);
        byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(storedKey, authMessage));
        expectedServerSignature = ScramCrypto.hmac(serverKey, authMessage);
        state = State.FINAL_SENT;
        return (withoutProof + ",p=" + ScramCrypto.base64(proof)).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Checks the server-final-message. Returns normally only if the server proved it knows the
     * secret.
     *
     * @throws ScramException        {@link ScramException.Kind#SERVER_ERROR} on {@code e=<error>},
     *                               {@link ScramException.Kind#INVALID_PROOF} if the server
     *                               signature does not match, {@link ScramException.Kind#MALFORMED}
     *                               if the message is not acceptable
     * @throws IllegalStateException if the client-final-message was not produced, or called twice
     */
    public void verifyServerFinal(byte[] serverFinalMessage) throws ScramException {
        Objects.requireNonNull(serverFinalMessage, "serverFinalMessage");
        if (state != State.FINAL_SENT) {
            throw new IllegalStateException(state == State.SUCCEEDED || state == State.FAILED
                    ? "SCRAM exchange already finished" : "client-final-message not sent yet");
        }
        state = State.FAILED;
        ScramParser p = ScramParser.of(serverFinalMessage);
        if (p.peek() == 'e') {
            String error = p.expect('e');
            throw new ScramException(ScramException.Kind.SERVER_ERROR,
                    "error received from server in SCRAM exchange: " + sanitize(error));
        }
        byte[] signature = ScramCrypto.base64DecodeOrNull(p.expect('v'));
        if (signature == null || signature.length != ScramCrypto.KEY_LENGTH) {
            throw ScramException.malformed("invalid server signature");
        }
        while (!p.atEnd()) {
            p.any(); // extensions are ignored
        }
        p.expectEnd("server-final-message");
        if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
            throw new ScramException(ScramException.Kind.INVALID_PROOF, "incorrect server signature");
        }
        state = State.SUCCEEDED;
    }

    /** True once the server's signature was verified. */
    public boolean isSucceeded() {
        return state == State.SUCCEEDED;
    }

    private static int parseIterations(String text) {
        if (text.isEmpty() || text.length() > 10) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        long value = Long.parseLong(text);
        return value > Integer.MAX_VALUE ? -1 : (int) value;
    }

    /** saslname of RFC 5802: "=" and "," escaped. */
    private static String escapeSaslName(String name) {
        return name.replace("=", "=3D").replace(",", "=2C");
    }

    /** Server error values are short tokens; keep printable ASCII only, bounded. */
    private static String sanitize(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && sb.length() < 100; i++) {
            char c = value.charAt(i);
            sb.append(c >= 0x20 && c <= 0x7E ? c : '?');
        }
        return sb.toString();
    }
}
