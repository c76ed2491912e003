package dev.pgmux.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards clients.
 *
 * @param mode       whether clients may or must use TLS
 * @param certFile   PEM certificate chain; needed unless {@code selfSigned}
 * @param keyFile    PEM private key (PKCS#8); needed unless {@code selfSigned}
 * @param selfSigned generate a self-signed pair at start, for local development
 */
public record TlsConfig(TlsMode mode, Optional<Path> certFile, Optional<Path> keyFile, boolean selfSigned) {

    public TlsConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
    }

    public static TlsConfig disabled() {
        return new TlsConfig(TlsMode.DISABLED, Optional.empty(), Optional.empty(), false);
    }

    /** TLS with a certificate and key read from PEM files. */
    public static TlsConfig pem(TlsMode mode, Path certFile, Path keyFile) {
        return new TlsConfig(mode, Optional.of(certFile), Optional.of(keyFile), false);
    }

    /** TLS with a pair generated at start. */
    public static TlsConfig selfSigned(TlsMode mode) {
        return new TlsConfig(mode, Optional.empty(), Optional.empty(), true);
    }

    public boolean enabled() {
        return mode != TlsMode.DISABLED;
    }
}
