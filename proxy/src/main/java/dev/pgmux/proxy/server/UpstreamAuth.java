package dev.pgmux.proxy.server;

import dev.pgmux.protocol.auth.Md5Password;
import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.protocol.auth.ScramException;

import java.security.SecureRandom;

/**
 * How pgmux answers the authentication an upstream asks for, with the credentials it holds for the user:
 * the password answers everything; an MD5 hash answers MD5 only; a SCRAM verifier answers SCRAM only, with
 * the ClientKey a client's login revealed (passthrough). Anything else fails with an error that names the
 * tenant and user and says why; never with a secret.
 */
final class UpstreamAuth {
    private UpstreamAuth() {}

    /** The answer to AuthenticationCleartextPassword. */
    static String cleartext(ServerTarget target) throws UpstreamException {
        if (target.credentials() instanceof Credentials.Password p) {
            return p.password();
        }
        throw cannot(target, "the upstream asks for the cleartext password");
    }

    /** The answer to AuthenticationMD5Password. */
    static String md5(ServerTarget target, byte[] salt) throws UpstreamException {
        return switch (target.credentials()) {
            case Credentials.Password p -> Md5Password.encode(target.user(), p.password(), salt);
            case Credentials.Md5Hash h -> Md5Password.encodeFromStored(h.hash(), salt);
            case Credentials.ScramVerifier v -> throw cannot(target, "the upstream asks for MD5 authentication");
        };
    }

    /** The SCRAM-SHA-256 exchange with the password, or passthrough with the verifier's keys. */
    static ScramClientSession scram(ServerTarget target, SecureRandom random) throws UpstreamException {
        return switch (target.credentials()) {
            case Credentials.Password p -> new ScramClientSession(p.password(), random);
            case Credentials.Md5Hash h -> throw cannot(target, "the upstream asks for SCRAM-SHA-256 authentication");
            case Credentials.ScramVerifier v -> {
                byte[] clientKey = v.clientKey().get();
                if (clientKey == null) {
                    throw UpstreamException.loginFailed("cannot log in upstream as user \"" + target.user() + "\" of tenant "
                            + target.key().tenant() + " yet: pgmux holds only the SCRAM-SHA-256 verifier of its "
                            + "password, and the key to log in with comes from a client's login (none since pgmux "
                            + "started)", null);
                }
                yield ScramClientSession.passthrough(v.verifier(), clientKey, random);
            }
        };
    }

    /** A failed upstream SCRAM exchange, in words. */
    static UpstreamException scramFailed(ServerTarget target, ScramException e) {
        if (e.kind() == ScramException.Kind.SECRET_MISMATCH) {
            return UpstreamException.loginFailed("the SCRAM verifier pgmux holds for user \"" + target.user() + "\" of tenant "
                    + target.key().tenant() + " does not match the upstream's (different salt or iteration count): "
                    + "copy it again from pg_authid", e);
        }
        return UpstreamException.loginFailed("upstream login as user \"" + target.user() + "\" failed: " + e.getMessage(), e);
    }

    private static UpstreamException cannot(ServerTarget target, String asks) {
        return UpstreamException.loginFailed("cannot log in upstream as user \"" + target.user() + "\" of tenant "
                + target.key().tenant() + ": " + asks + ", and pgmux holds " + target.credentials().describe(), null);
    }
}
