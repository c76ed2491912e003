package dev.pgmux.config;

import java.util.Objects;

/**
 * The Postgres server behind a tenant.
 *
 * @param host     host name or address; also the name a {@code verify-full} certificate must carry, and the
 *                 TLS server name (SNI) pgmux sends
 * @param port     TCP port
 * @param database the database used when a client names none in its startup packet
 * @param tls      whether and how pgmux speaks TLS to it
 */
public record UpstreamConfig(String host, int port, String database, UpstreamTls tls) {

    public static final int DEFAULT_PORT = 5432;
    public static final String DEFAULT_DATABASE = "postgres";

    public UpstreamConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(tls, "tls");
    }

    /** An upstream with the default TLS settings ({@code sslmode=prefer}). */
    public UpstreamConfig(String host, int port, String database) {
        this(host, port, database, UpstreamTls.defaults());
    }

    /** An upstream whose default database is {@code postgres}. */
    public static UpstreamConfig of(String host, int port) {
        return new UpstreamConfig(host, port, DEFAULT_DATABASE);
    }

    public UpstreamConfig withTls(UpstreamTls tls) {
        return new UpstreamConfig(host, port, database, tls);
    }
}
