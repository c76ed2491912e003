package dev.pgmux.proxy.server;

import dev.pgmux.config.Passwords;
import dev.pgmux.protocol.auth.ScramSecret;

import java.util.Objects;

/**
 * What pgmux logs in upstream with, as a user's password was given: the password itself, its MD5 hash, or
 * its SCRAM-SHA-256 verifier (then with the ClientKey a client's login reveals, SCRAM passthrough). None of
 * them shows a secret in {@code toString}.
 */
public sealed interface Credentials {

    /** The credentials of a configured or looked-up password, by its form ({@link Passwords#kind}). */
    static Credentials of(String password) {
        return switch (Passwords.kind(password)) {
            case PLAINTEXT -> new Password(password);
            case MD5 -> new Md5Hash(password);
            case SCRAM_SHA_256 -> new ScramVerifier(ScramSecret.parse(password), new ClientKey());
        };
    }

    /** Whether a server login can be attempted now: not before a verifier's ClientKey is known. */
    default boolean ready() {
        return true;
    }

    /** Whether a server logged in with these is as good as one logged in with {@code other}: the same secret. */
    default boolean sameAs(Credentials other) {
        return equals(other);
    }

    /** What pgmux holds, in words for an error message: never the secret. */
    String describe();

    /** The password itself: answers every method Postgres may ask for. */
    record Password(String password) implements Credentials {
        public Password {
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String describe() {
            return "the password";
        }

        @Override
        public String toString() {
            return "Password[***]";
        }
    }

    /** {@code md5} + hex(md5(password + user)): answers an MD5 challenge only. */
    record Md5Hash(String hash) implements Credentials {
        public Md5Hash {
            Objects.requireNonNull(hash, "hash");
        }

        @Override
        public String describe() {
            return "only the MD5 hash of its password";
        }

        @Override
        public String toString() {
            return "Md5Hash[***]";
        }
    }

    /**
     * A SCRAM-SHA-256 verifier: answers a SCRAM challenge of an upstream that holds the same verifier, once a
     * client's login has revealed the ClientKey ({@link ClientKey#remember}).
     */
    record ScramVerifier(ScramSecret verifier, ClientKey clientKey) implements Credentials {
        public ScramVerifier {
            Objects.requireNonNull(verifier, "verifier");
            Objects.requireNonNull(clientKey, "clientKey");
        }

        @Override
        public boolean ready() {
            return clientKey.known();
        }

        @Override
        public boolean sameAs(Credentials other) {
            return other instanceof ScramVerifier s && s.verifier.equals(verifier);
        }

        @Override
        public String describe() {
            return "only the SCRAM-SHA-256 verifier of its password";
        }

        @Override
        public String toString() {
            return "ScramVerifier[" + verifier + ", ClientKey " + (clientKey.known() ? "known" : "not known yet") + "]";
        }
    }

    /**
     * The ClientKey of one user's verifier, kept in memory only, from the first successful client login on:
     * with the verifier's ServerKey it logs pgmux in upstream without the password. Never logged, never written.
     */
    final class ClientKey {
        private volatile byte[] key;

        /** A client proved it knows the password: its ClientKey, checked against the verifier by that proof. */
        public void remember(byte[] clientKey) {
            if (key == null) {
                key = clientKey.clone();
            }
        }

        public boolean known() {
            return key != null;
        }

        /** A copy of the key, or null before any client logged in. */
        public byte[] get() {
            byte[] k = key;
            return k == null ? null : k.clone();
        }

        @Override
        public String toString() {
            return "ClientKey[" + (known() ? "known" : "not known yet") + "]";
        }
    }
}
