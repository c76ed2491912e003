package dev.pgmux.config;

import java.util.Locale;

/**
 * Whether pgmux speaks TLS to an upstream, with libpq's {@code sslmode} names and meanings. pgmux never
 * sends a password in cleartext over a connection its mode did not protect more than the upstream demands:
 * the login method is the upstream's choice, as with libpq.
 */
public enum SslMode {
    /** Plaintext only. */
    DISABLE,
    /** Plaintext first; TLS only if the server refuses the plaintext login. */
    ALLOW,
    /** TLS if the server offers it, plaintext otherwise (libpq's default, and pgmux's). */
    PREFER,
    /** TLS or no connection; the certificate is checked only when a root CA is given (as libpq does). */
    REQUIRE,
    /** TLS, and the server's certificate must chain to the root CA. */
    VERIFY_CA,
    /** TLS, the certificate must chain to the root CA and name the host. */
    VERIFY_FULL;

    public static final SslMode DEFAULT = PREFER;

    /** As written in the configuration and in URLs: {@code verify-full}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether a server that refuses TLS is refused in turn. */
    public boolean requiresTls() {
        return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** Whether the server's certificate must chain to a trusted root. */
    public boolean verifiesCertificate() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    public static SslMode fromConfigName(String text) {
        String wanted = text.trim().toLowerCase(Locale.ROOT);
        for (SslMode mode : values()) {
            if (mode.configName().equals(wanted)) {
                return mode;
            }
        }
        return null;
    }
}
