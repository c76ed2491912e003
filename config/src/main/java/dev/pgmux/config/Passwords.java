package dev.pgmux.config;

import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The three forms a configured password may take, told apart as Postgres and PgBouncer tell them: the
 * stored forms are recognised by their shape, anything else is the password itself.
 */
public final class Passwords {

    public enum Kind {
        /** The password itself. */
        PLAINTEXT,
        /** {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, as in {@code pg_authid}. */
        SCRAM_SHA_256,
        /** {@code md5} followed by 32 hex digits: md5(password || user name), as in {@code pg_authid}. */
        MD5
    }

    private static final Pattern MD5 = Pattern.compile("md5[0-9a-f]{32}");
    private static final Pattern SCRAM = Pattern.compile("SCRAM-SHA-256\\$(\\d+):([^$:]+)\\$([^$:]+):([^$:]+)");

    private Passwords() {
    }

    public static Kind kind(String password) {
        if (password.startsWith("SCRAM-SHA-256$")) {
            return Kind.SCRAM_SHA_256;
        }
        if (MD5.matcher(password).matches()) {
            return Kind.MD5;
        }
        return Kind.PLAINTEXT;
    }

    /**
     * What is wrong with a text that starts like a SCRAM-SHA-256 verifier, or empty when it is a valid one.
     * The answer never repeats the text.
     */
    public static Optional<String> verifierProblem(String verifier) {
        Matcher m = SCRAM.matcher(verifier);
        if (!m.matches()) {
            return Optional.of("looks like a SCRAM-SHA-256 verifier but is not one (expected "
                    + "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as in pg_authid.rolpassword)");
        }
        try {
            long iterations = Long.parseLong(m.group(1));
            if (iterations < 1 || iterations > Integer.MAX_VALUE) {
                return Optional.of("SCRAM-SHA-256 verifier: iteration count out of range");
            }
        } catch (NumberFormatException e) {
            return Optional.of("SCRAM-SHA-256 verifier: iteration count out of range");
        }
        try {
            Base64.Decoder base64 = Base64.getDecoder();
            if (base64.decode(m.group(2)).length == 0) {
                return Optional.of("SCRAM-SHA-256 verifier: empty salt");
            }
            if (base64.decode(m.group(3)).length != 32 || base64.decode(m.group(4)).length != 32) {
                return Optional.of("SCRAM-SHA-256 verifier: StoredKey and ServerKey must be 32 bytes each");
            }
        } catch (IllegalArgumentException e) {
            return Optional.of("SCRAM-SHA-256 verifier: salt and keys must be base64");
        }
        return Optional.empty();
    }
}
