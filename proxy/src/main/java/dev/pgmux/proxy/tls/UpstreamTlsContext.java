package dev.pgmux.proxy.tls;

import dev.pgmux.config.SslMode;
import dev.pgmux.config.UpstreamTls;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.util.List;
import java.util.Objects;

/**
 * A tenant's upstream TLS settings with the client {@link SslContext} built from them once (not per
 * connection): the trust (the {@code sslrootcert} PEM file, the Java runtime's CAs for {@code system}, or
 * none when the mode does not verify), the client certificate for mutual TLS, and whether the host name is
 * checked. A context that could not be built (an unreadable PEM file) is kept with the reason, and every
 * connect that needs it fails with that reason.
 */
public final class UpstreamTlsContext {
    private static final UpstreamTlsContext DISABLED = new UpstreamTlsContext(UpstreamTls.of(SslMode.DISABLE), null, null);

    private final UpstreamTls settings;
    private final SslContext context;
    private final String problem;

    private UpstreamTlsContext(UpstreamTls settings, SslContext context, String problem) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.context = context;
        this.problem = problem;
    }

    /** Plaintext only ({@code sslmode=disable}): no context. */
    public static UpstreamTlsContext disabled() {
        return DISABLED;
    }

    /** Builds the context for {@code settings}; reads the PEM files it names now. */
    public static UpstreamTlsContext build(UpstreamTls settings) {
        if (settings.mode() == SslMode.DISABLE) {
            return settings.equals(DISABLED.settings) ? DISABLED : new UpstreamTlsContext(settings, null, null);
        }
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                // Netty checks the host name by default; libpq does so in verify-full only.
                .endpointIdentificationAlgorithm(settings.verifiesHostName() ? "HTTPS" : null);
        String reading = "sslrootcert";
        try {
            if (!settings.verifiesCertificate()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (settings.rootCertFile().isPresent()) {
                builder.trustManager(settings.rootCertFile().get().toFile());
            } // else sslrootcert=system: the Java runtime's default trust store
            reading = "sslcert/sslkey";
            if (settings.cert().isPresent() && settings.key().isPresent()) {
                builder.keyManager(settings.cert().get().toFile(), settings.key().get().toFile());
            }
            return new UpstreamTlsContext(settings, builder.build(), null);
        } catch (Exception | LinkageError e) {
            // The reason names a file and what is wrong with it; PEM contents never reach it.
            return new UpstreamTlsContext(settings, null, "cannot use " + reading + ": " + rootMessage(e));
        }
    }

    public UpstreamTls settings() {
        return settings;
    }

    public SslMode mode() {
        return settings.mode();
    }

    /** Why the context could not be built, or null when it was (or none is needed). */
    public String problem() {
        return problem;
    }

    /**
     * A client-mode TLS handler towards {@code host}: it sends {@code host} as the TLS server name (SNI) unless
     * it is an IP address, as libpq does, and checks the certificate against it under {@code verify-full}.
     *
     * @throws IllegalStateException when the context could not be built ({@link #problem()})
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        if (context == null) {
            throw new IllegalStateException(problem != null ? problem : "TLS is disabled (sslmode=disable)");
        }
        SSLEngine engine = context.newEngine(alloc, host, port);
        if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(host)));
            engine.setSSLParameters(parameters);
        }
        return new SslHandler(engine);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }

    @Override
    public String toString() {
        return "UpstreamTlsContext[" + settings.mode().configName() + (problem == null ? "" : ", unusable") + "]";
    }
}
