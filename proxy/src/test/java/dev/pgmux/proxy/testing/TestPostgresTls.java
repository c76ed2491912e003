package dev.pgmux.proxy.testing;

import dev.pgmux.config.SslMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UpstreamTls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;

/**
 * A second private Postgres for the upstream TLS tests, started on first use (only by the tests that need
 * it) and stopped when the JVM exits: {@code ssl = on}, with a certificate for the DNS name
 * {@code localhost} only (so {@code verify-full} towards 127.0.0.1 fails on the host name), signed by a CA the
 * fixture makes, and a {@code pg_hba.conf} that takes TLS connections only:
 * <pre>
 * hostnossl all all        127.0.0.1/32 reject
 * hostssl   all trust_user 127.0.0.1/32 trust
 * hostssl   all plain_user 127.0.0.1/32 password
 * hostssl   all cert_user  127.0.0.1/32 cert
 * hostssl   all all        127.0.0.1/32 md5
 * </pre>
 * It has the main cluster's roles and passwords ({@link TestPostgres#SCRAM}, ...) and {@link #CERT}, which
 * logs in with a client certificate of the same CA ({@link #clientCert()}, {@link #clientKey()}; the key in
 * PKCS#1 form). It always runs from the installed binaries, even when {@value TestPostgres#URL_ENV} names the
 * main server; a test that cannot start it fails.
 */
public final class TestPostgresTls {
    /** Authenticated by its client certificate ({@code cert}: the certificate's CN is the role's name). */
    public static final TestRole CERT = new TestRole("cert_user", "");

    private static final String HBA = """
            # pgmux upstream TLS test cluster: TCP over TLS only.
            hostnossl all all          127.0.0.1/32 reject
            hostssl   all trust_user   127.0.0.1/32 trust
            hostssl   all plain_user   127.0.0.1/32 password
            hostssl   all cert_user    127.0.0.1/32 cert
            hostssl   all all          127.0.0.1/32 md5
            """;
    private static final String SETTINGS = """
            ssl = on
            ssl_cert_file = 'server.crt'
            ssl_key_file = 'server.key'
            ssl_ca_file = 'root.crt'
            """;

    private static final Object LOCK = new Object();
    private static TestPostgresTls instance;
    private static RuntimeException startFailure;

    private final TestPostgres postgres;
    private final Path rootCert;
    private final Path untrustedRootCert;
    private final Path clientCert;
    private final Path clientKey;

    private TestPostgresTls(TestPostgres postgres, Path rootCert, Path untrustedRootCert, Path clientCert, Path clientKey) {
        this.postgres = postgres;
        this.rootCert = rootCert;
        this.untrustedRootCert = untrustedRootCert;
        this.clientCert = clientCert;
        this.clientKey = clientKey;
    }

    /** The TLS cluster, started on the first call; a failure to start it is thrown on every call. */
    public static TestPostgresTls get() {
        synchronized (LOCK) {
            if (instance != null) {
                return instance;
            }
            if (startFailure != null) {
                throw new IllegalStateException(startFailure.getMessage(), startFailure);
            }
            try {
                instance = start();
                return instance;
            } catch (RuntimeException e) {
                startFailure = e;
                throw e;
            }
        }
    }

    private static TestPostgresTls start() {
        TestCertificates.Issued ca = TestCertificates.authority("pgmux test CA");
        TestCertificates.Issued server = TestCertificates.server(ca, "localhost");
        TestCertificates.Issued client = TestCertificates.client(ca, CERT.name());
        TestCertificates.Issued stranger = TestCertificates.authority("some other CA");
        Properties connection = new Properties();
        connection.setProperty("sslmode", "require");
        TestPostgres postgres = TestPostgres.startManaged(new TestPostgres.ClusterSpec("upstream TLS test Postgres", HBA,
                SETTINGS, Map.of("server.crt", server.certificatePem(), "server.key", server.pkcs8KeyPem(),
                "root.crt", ca.certificatePem()), connection));
        try (Connection c = postgres.superuser(); Statement st = c.createStatement()) {
            st.execute("DROP ROLE IF EXISTS " + CERT.name());
            st.execute("CREATE ROLE " + CERT.name() + " LOGIN");
            st.execute("GRANT CREATE ON SCHEMA public TO " + CERT.name());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create " + CERT.name() + " in the upstream TLS test Postgres: " + e, e);
        }
        try {
            Path dir = Files.createTempDirectory("pgmux-upstream-tls");
            dir.toFile().deleteOnExit();
            return new TestPostgresTls(postgres, write(dir, "root.crt", ca.certificatePem()),
                    write(dir, "other-root.crt", stranger.certificatePem()),
                    write(dir, "client.crt", client.certificatePem()), write(dir, "client.key", client.pkcs1KeyPem()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the upstream TLS test certificates: " + e, e);
        }
    }

    private static Path write(Path dir, String name, String content) throws IOException {
        Path file = Files.writeString(dir.resolve(name), content);
        file.toFile().deleteOnExit();
        return file;
    }

    /** The cluster: its superuser connections use {@code sslmode=require}. */
    public TestPostgres postgres() {
        return postgres;
    }

    public int port() {
        return postgres.port();
    }

    /** The CA that signed the server's (and the client's) certificate, as PEM. */
    public Path rootCert() {
        return rootCert;
    }

    /** A CA that signed nothing here. */
    public Path untrustedRootCert() {
        return untrustedRootCert;
    }

    /** {@link #CERT}'s certificate. */
    public Path clientCert() {
        return clientCert;
    }

    /** {@link #CERT}'s private key, PKCS#1 PEM. */
    public Path clientKey() {
        return clientKey;
    }

    /** This cluster as a tenant's upstream at {@code host} (127.0.0.1 or localhost), with these TLS settings. */
    public UpstreamConfig upstream(String host, UpstreamTls tls) {
        return new UpstreamConfig(host, port(), "postgres", tls);
    }

    /** {@link PgmuxHarness#defaultTenant()} with this cluster as its upstream. */
    public TenantConfig tenant(String host, UpstreamTls tls) {
        return PgmuxHarness.defaultTenant().withUpstream(upstream(host, tls));
    }

    /** {@code mode} with this cluster's CA as the root certificate. */
    public UpstreamTls trusting(SslMode mode) {
        return UpstreamTls.of(mode).withRootCert(rootCert.toString());
    }
}
