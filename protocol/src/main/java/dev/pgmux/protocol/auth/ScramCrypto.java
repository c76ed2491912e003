package dev.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/** The SCRAM-SHA-256 primitives of RFC 5802 / RFC 7677, shared by both sides of the exchange. */
final class ScramCrypto {

    static final String MECHANISM = "SCRAM-SHA-256";
    /** Length of SHA-256 output, and so of StoredKey, ServerKey, proofs and signatures. */
    static final int KEY_LENGTH = 32;
    /** Postgres' default {@code scram_iterations}. */
    static final int DEFAULT_ITERATIONS = 4096;
    /** Postgres' default salt length. */
    static final int DEFAULT_SALT_LENGTH = 16;
    /** Random bytes in a nonce before base64, as Postgres uses. */
    static final int NONCE_BYTES = 18;

    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLOCK_ONE = {0, 0, 0, 1};

    private ScramCrypto() {
    }

    /** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-SHA-256 and one output block. */
    static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        Mac mac = mac(password);
        mac.update(salt);
        mac.update(BLOCK_ONE);
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int n = 1; n < iterations; n++) {
            u = mac.doFinal(u);
            for (int k = 0; k < result.length; k++) {
                result[k] ^= u[k];
            }
        }
        return result;
    }

    /** SaltedPassword for a password as typed: SASLprep, then UTF-8, then Hi. */
    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        return hi(SaslPrep.prepare(password).getBytes(StandardCharsets.UTF_8), salt, iterations);
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    static byte[] hmac(byte[] key, byte[] data) {
        return mac(key).doFinal(data);
    }

    static byte[] sha256(byte[] data) {
        return SHA_256.get().digest(data);
    }

    static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("length mismatch");
        }
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    /** A fresh nonce: {@link #NONCE_BYTES} random bytes in base64 (printable, no commas). */
    static String newNonce(SecureRandom random) {
        byte[] raw = new byte[NONCE_BYTES];
        random.nextBytes(raw);
        return base64(raw);
    }

    static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** Decodes base64, or returns {@code null} if the text is not base64. */
    static byte[] base64DecodeOrNull(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** printable = %x21-2B / %x2D-7E, i.e. printable ASCII except ",". */
    static boolean isPrintableNonce(String nonce) {
        if (nonce.isEmpty()) {
            return false;
        }
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }

    /**
     * One instance per thread, initialised afresh for each use: looking an algorithm up through the
     * providers costs more than the few HMACs of a login. Nothing holds one across another's use.
     */
    private static final ThreadLocal<Mac> HMAC_SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    });
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    });

    private static Mac mac(byte[] key) {
        try {
            Mac mac = HMAC_SHA_256.get();
            mac.init(new RawKey(key));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 refused its key", e);
        }
    }

    /**
     * An HMAC key that, unlike {@code SecretKeySpec}, may be empty: HMAC is defined for an empty
     * key, and SCRAM must be able to process an empty password the way Postgres does.
     */
    private static final class RawKey implements SecretKey {
        private final byte[] key;

        RawKey(byte[] key) {
            this.key = key.clone();
        }

        @Override
        public String getAlgorithm() {
            return "HmacSHA256";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return key.clone();
        }
    }
}
