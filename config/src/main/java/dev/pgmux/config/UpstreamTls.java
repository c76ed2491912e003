package dev.pgmux.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards a tenant's upstream, as libpq's connection parameters of the same names.
 *
 * @param mode     {@code sslmode}
 * @param rootCert {@code sslrootcert}: a PEM file of trusted CAs, or {@value #SYSTEM} for the Java runtime's
 *                 trusted CAs (which implies {@code verify-full}, as in libpq)
 * @param cert     {@code sslcert}: PEM client certificate (chain) for mutual TLS
 * @param key      {@code sslkey}: its PEM private key (PKCS#8 or PKCS#1)
 */
public record UpstreamTls(SslMode mode, Optional<String> rootCert, Optional<Path> cert, Optional<Path> key) {

    /** {@code sslrootcert=system}: the platform's trusted CAs. */
    public static final String SYSTEM = "system";

    public UpstreamTls {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(rootCert, "rootCert");
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }

    public static UpstreamTls defaults() {
        return new UpstreamTls(SslMode.DEFAULT, Optional.empty(), Optional.empty(), Optional.empty());
    }

    public static UpstreamTls of(SslMode mode) {
        return new UpstreamTls(mode, Optional.empty(), Optional.empty(), Optional.empty());
    }

    public UpstreamTls withRootCert(String rootCert) {
        return new UpstreamTls(mode, Optional.of(rootCert), cert, key);
    }

    public UpstreamTls withClientCertificate(Path cert, Path key) {
        return new UpstreamTls(mode, rootCert, Optional.of(cert), Optional.of(key));
    }

    /** The root CA file, unless none is given or it is {@value #SYSTEM}. */
    public Optional<Path> rootCertFile() {
        return rootCert.filter(text -> !text.equals(SYSTEM)).map(Path::of);
    }

    public boolean systemRoots() {
        return rootCert.filter(SYSTEM::equals).isPresent();
    }

    /**
     * Whether the server's certificate is checked against the roots: {@code verify-ca} and {@code verify-full},
     * and also {@code require} when a root CA file is given (libpq's rule, kept for compatibility). libpq
     * applies that rule to every mode that tries TLS, so {@code prefer} and {@code allow} with a root CA
     * check the certificate too (and under {@code prefer} a server whose certificate fails the check is
     * tried again in plaintext, as libpq does).
     */
    public boolean verifiesCertificate() {
        return mode.verifiesCertificate() || (mode != SslMode.DISABLE && rootCert.isPresent());
    }

    /** Whether the certificate must name the host: {@code verify-full}. */
    public boolean verifiesHostName() {
        return mode == SslMode.VERIFY_FULL;
    }
}
