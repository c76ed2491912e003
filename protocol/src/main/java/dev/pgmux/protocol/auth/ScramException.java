package dev.pgmux.protocol.auth;

import java.util.Objects;

/**
 * A SCRAM exchange failed.
 *
 * <p>This is a <em>checked</em> exception on purpose: every caller has to decide what the peer
 * sees. On the server side {@link Kind#INVALID_PROOF} becomes {@code 28P01} (the same error an
 * unknown user gets) and {@link Kind#MALFORMED} a protocol violation ({@code 08P01}); on the
 * client side any kind means the upstream login failed.
 *
 * <p>Messages never contain passwords, keys, proofs or whole SCRAM messages, so they are safe to
 * log and to send to a client.
 */
public final class ScramException extends Exception {

    /** What went wrong. */
    public enum Kind {
        /** A message did not follow RFC 5802 (missing or invalid attribute, wrong nonce, ...). */
        MALFORMED,
        /** The peer's proof (client proof or server signature) is wrong: wrong password or key. */
        INVALID_PROOF,
        /** The server answered the exchange with {@code e=<error>}. */
        SERVER_ERROR,
        /**
         * Key passthrough only: the server's salt or iteration count differs from the verifier the keys
         * belong to, so they cannot answer it (the upstream holds another verifier for the user).
         */
        SECRET_MISMATCH
    }

    private final Kind kind;

    public ScramException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** What went wrong; see {@link Kind}. */
    public Kind kind() {
        return kind;
    }

    static ScramException malformed(String detail) {
        return new ScramException(Kind.MALFORMED, "malformed SCRAM message (" + detail + ")");
    }
}
