package dev.pgmux.config;

import java.util.Objects;

/**
 * Where pgmux listens. A port of 0 asks the operating system for a free port (used by tests).
 *
 * @param host            address all listeners bind to
 * @param transactionPort Postgres protocol, transaction pooling
 * @param sessionPort     Postgres protocol, session pooling
 * @param adminPort       HTTP: metrics and health
 */
public record ListenConfig(String host, int transactionPort, int sessionPort, int adminPort) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_TRANSACTION_PORT = 6543;
    /** Supavisor uses 5432; pgmux picks another so that it does not clash with a local Postgres. */
    public static final int DEFAULT_SESSION_PORT = 6542;
    public static final int DEFAULT_ADMIN_PORT = 6544;

    public ListenConfig {
        Objects.requireNonNull(host, "host");
    }

    public static ListenConfig defaults() {
        return new ListenConfig(DEFAULT_HOST, DEFAULT_TRANSACTION_PORT, DEFAULT_SESSION_PORT, DEFAULT_ADMIN_PORT);
    }

    /** All three listeners on free ports chosen by the operating system, on the loopback address. */
    public static ListenConfig ephemeral() {
        return new ListenConfig(DEFAULT_HOST, 0, 0, 0);
    }

    public ListenConfig withHost(String host) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort);
    }

    public ListenConfig withTransactionPort(int port) {
        return new ListenConfig(host, port, sessionPort, adminPort);
    }

    public ListenConfig withSessionPort(int port) {
        return new ListenConfig(host, transactionPort, port, adminPort);
    }

    public ListenConfig withAdminPort(int port) {
        return new ListenConfig(host, transactionPort, sessionPort, port);
    }
}
