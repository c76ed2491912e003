package dev.pgmux.config;

import java.util.Objects;

/**
 * The Postgres server behind a tenant.
 *
 * @param host     host name or address
 * @param port     TCP port
 * @param database the database used when a client names none in its startup packet
 */
public record UpstreamConfig(String host, int port, String database) {

    public static final int DEFAULT_PORT = 5432;
    public static final String DEFAULT_DATABASE = "postgres";

    public UpstreamConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(database, "database");
    }

    /** An upstream whose default database is {@code postgres}. */
    public static UpstreamConfig of(String host, int port) {
        return new UpstreamConfig(host, port, DEFAULT_DATABASE);
    }
}
