package dev.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Postgres' MD5 password scheme. The stored hash is {@code "md5" + hex(md5(password + user))};
 * the answer to AuthenticationMD5Password(salt) is {@code "md5" + hex(md5(hex-part-of-stored-hash
 * + salt))}. Strings are encoded as UTF-8; hex digits are lower case, as Postgres writes and
 * compares them.
 */
public final class Md5Password {

    private static final String PREFIX = "md5";
    private static final int HASH_LENGTH = PREFIX.length() + 32;
    private static final HexFormat HEX = HexFormat.of();

    private Md5Password() {
    }

    /** The PasswordMessage answer to AuthenticationMD5Password for this user and password. */
    public static String encode(String user, String password, byte[] salt4) {
        return encodeFromStored(storedHash(user, password), salt4);
    }

    /** The hash Postgres stores for an MD5 password: {@code "md5" + hex(md5(password + user))}. */
    public static String storedHash(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        return PREFIX + HEX.formatHex(md5((password + user).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The PasswordMessage answer to AuthenticationMD5Password computed from a stored hash, so no
     * password is needed.
     *
     * @throws IllegalArgumentException if {@code storedHash} is not {@code "md5"} and 32 lower-case
     *                                  hex digits, or the salt is not 4 bytes
     */
    public static String encodeFromStored(String storedHash, byte[] salt4) {
        Objects.requireNonNull(storedHash, "storedHash");
        Objects.requireNonNull(salt4, "salt4");
        if (!isStoredHash(storedHash)) {
            throw new IllegalArgumentException("not an MD5 password hash (expected \"md5\" and 32 lower-case hex digits)");
        }
        if (salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes, got " + salt4.length);
        }
        byte[] hex = storedHash.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
        byte[] input = new byte[hex.length + 4];
        System.arraycopy(hex, 0, input, 0, hex.length);
        System.arraycopy(salt4, 0, input, hex.length, 4);
        return PREFIX + HEX.formatHex(md5(input));
    }

    /**
     * Checks a client's answer to AuthenticationMD5Password against the stored hash, in constant
     * time for answers of the right length.
     *
     * @throws IllegalArgumentException if {@code storedHash} or the salt is invalid (a configuration
     *                                  error, not a wrong password)
     */
    public static boolean verify(String storedHash, byte[] salt4, String clientResponse) {
        String expected = encodeFromStored(storedHash, salt4);
        if (clientResponse == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether {@code text} has the form of a stored MD5 hash, as Postgres recognises it. */
    public static boolean isStoredHash(String text) {
        if (text == null || text.length() != HASH_LENGTH || !text.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < HASH_LENGTH; i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }
}
