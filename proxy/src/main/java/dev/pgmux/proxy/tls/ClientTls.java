package dev.pgmux.proxy.tls;

import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;

import javax.net.ssl.SSLException;
import java.security.cert.CertificateException;

/** Builds the TLS context offered to clients: from PEM files, or a self-signed pair for local development. */
public final class ClientTls {
    private ClientTls() {}

    /** The context, or null when TLS towards clients is disabled. */
    public static SslContext create(TlsConfig config) {
        if (config.mode() == TlsMode.DISABLED) {
            return null;
        }
        try {
            if (config.certFile().isPresent() && config.keyFile().isPresent()) {
                return SslContextBuilder.forServer(config.certFile().get().toFile(), config.keyFile().get().toFile()).build();
            }
            SelfSignedCertificate certificate = new SelfSignedCertificate("localhost");
            return SslContextBuilder.forServer(certificate.certificate(), certificate.privateKey()).build();
        } catch (SSLException | CertificateException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot set up TLS for clients: " + e.getMessage(), e);
        }
    }
}
