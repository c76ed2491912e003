package dev.pgmux.protocol.auth;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * A SCRAM-SHA-256 secret as Postgres stores it in {@code pg_authid.rolpassword}: what a server
 * needs to check a client's proof, without the password.
 *
 * <p>The arrays are copied in and out, so an instance is immutable. {@link #toString()} shows the
 * iteration count and salt length only, never the keys.
 *
 * @param iterations PBKDF2 iteration count, positive
 * @param salt       the salt, any non-empty length (Postgres uses 16 bytes, other servers differ)
 * @param storedKey  H(ClientKey), 32 bytes
 * @param serverKey  HMAC(SaltedPassword, "Server Key"), 32 bytes
 */
public record ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {

    private static final String PREFIX = ScramCrypto.MECHANISM + "$";
    private static final String FORMAT = "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>";

    public ScramSecret {
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be positive, got " + iterations);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt must not be empty");
        }
        if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 StoredKey and ServerKey must be 32 bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /**
     * Derives the secret of a password, as {@code CREATE ROLE ... PASSWORD} does in Postgres:
     * SaltedPassword = Hi(SASLprep(password), salt, i), StoredKey = H(HMAC(SaltedPassword,
     * "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"). CPU-heavy by design.
     */
    public static ScramSecret fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt, "salt");
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be positive, got " + iterations);
        }
        byte[] salted = ScramCrypto.saltedPassword(password, salt, iterations);
        return new ScramSecret(iterations, salt,
                ScramCrypto.sha256(ScramCrypto.clientKey(salted)), ScramCrypto.serverKey(salted));
    }

    /** A new secret with a random 16-byte salt and 4096 iterations, Postgres' defaults. */
    public static ScramSecret generate(String password, SecureRandom random) {
        Objects.requireNonNull(random, "random");
        byte[] salt = new byte[ScramCrypto.DEFAULT_SALT_LENGTH];
        random.nextBytes(salt);
        return fromPassword(password, salt, ScramCrypto.DEFAULT_ITERATIONS);
    }

    /**
     * Parses Postgres' stored form {@code SCRAM-SHA-256$<iterations>:<base64 salt>$<base64
     * StoredKey>:<base64 ServerKey>}.
     *
     * @throws IllegalArgumentException if the text is not such a verifier; the message says what
     *                                  is wrong without repeating the text
     */
    public static ScramSecret parse(String verifier) {
        Objects.requireNonNull(verifier, "verifier");
        if (!verifier.startsWith(PREFIX)) {
            throw invalid("not a SCRAM-SHA-256 verifier (" + FORMAT + ")");
        }
        String[] parts = verifier.substring(PREFIX.length()).split("\\$", -1);
        if (parts.length != 2) {
            throw invalid(FORMAT);
        }
        String[] iterAndSalt = parts[0].split(":", -1);
        String[] keys = parts[1].split(":", -1);
        if (iterAndSalt.length != 2 || keys.length != 2) {
            throw invalid(FORMAT);
        }
        int iterations = parseIterations(iterAndSalt[0]);
        if (iterations < 1) {
            throw invalid("iteration count must be a positive integer");
        }
        byte[] salt = ScramCrypto.base64DecodeOrNull(iterAndSalt[1]);
        if (salt == null || salt.length == 0) {
            throw invalid("salt is not valid base64 or is empty");
        }
        byte[] storedKey = ScramCrypto.base64DecodeOrNull(keys[0]);
        if (storedKey == null || storedKey.length != ScramCrypto.KEY_LENGTH) {
            throw invalid("StoredKey must be 32 bytes in base64");
        }
        byte[] serverKey = ScramCrypto.base64DecodeOrNull(keys[1]);
        if (serverKey == null || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw invalid("ServerKey must be 32 bytes in base64");
        }
        return new ScramSecret(iterations, salt, storedKey, serverKey);
    }

    /** Postgres' stored form; {@link #parse(String)} reads it back. */
    public String toVerifier() {
        return PREFIX + iterations + ":" + ScramCrypto.base64(salt) + "$"
                + ScramCrypto.base64(storedKey) + ":" + ScramCrypto.base64(serverKey);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** Read access for this package, without copying. */
    byte[] saltRef() {
        return salt;
    }

    byte[] storedKeyRef() {
        return storedKey;
    }

    byte[] serverKeyRef() {
        return serverKey;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramSecret other
                && iterations == other.iterations
                && Arrays.equals(salt, other.salt)
                && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(iterations);
        h = 31 * h + Arrays.hashCode(salt);
        h = 31 * h + Arrays.hashCode(storedKey);
        return 31 * h + Arrays.hashCode(serverKey);
    }

    @Override
    public String toString() {
        return "ScramSecret[iterations=" + iterations + ", salt=" + salt.length + " bytes, keys=<hidden>]";
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

    private static IllegalArgumentException invalid(String detail) {
        return new IllegalArgumentException("invalid SCRAM verifier: " + detail);
    }
}
