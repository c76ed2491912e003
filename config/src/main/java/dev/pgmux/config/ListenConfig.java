package dev.pgmux.config;

import java.util.Objects;

/**
 * Where pgmux listens. A port of 0 asks the operating system for a free port (used by tests).
 *
 * @param host            address all listeners bind to
 * @param transactionPort Postgres protocol, transaction pooling
 * @param sessionPort     Postgres protocol, session pooling
 * @param adminPort       HTTP: metrics and health
 * @param ioThreads       event-loop threads serving every connection; 0 means {@link #AUTO_IO_THREADS}
 * @param transport       the network transport of those threads
 * @param reusePort       SO_REUSEPORT on the three listeners: several pgmux processes may listen on the same
 *                        ports (a rolling restart on one host); needs the io_uring or epoll transport
 * @param proxyProtocol   whether the transaction and session listeners read a PROXY protocol header first
 */
public record ListenConfig(String host, int transactionPort, int sessionPort, int adminPort, int ioThreads,
                           IoTransport transport, boolean reusePort, ProxyProtocolConfig proxyProtocol) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_TRANSACTION_PORT = 6543;
    /** Supavisor uses 5432; pgmux picks another so that it does not clash with a local Postgres. */
    public static final int DEFAULT_SESSION_PORT = 6542;
    public static final int DEFAULT_ADMIN_PORT = 6544;
    /** {@code io_threads: 0} (the default): half the cores, at least one. */
    public static final int AUTO_IO_THREADS = 0;
    public static final int MAX_IO_THREADS = 1024;

    public ListenConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    }

    public ListenConfig(String host, int transactionPort, int sessionPort, int adminPort, int ioThreads,
                        IoTransport transport, boolean reusePort) {
        this(host, transactionPort, sessionPort, adminPort, ioThreads, transport, reusePort, ProxyProtocolConfig.off());
    }

    public ListenConfig(String host, int transactionPort, int sessionPort, int adminPort, int ioThreads,
                        IoTransport transport) {
        this(host, transactionPort, sessionPort, adminPort, ioThreads, transport, false);
    }

    public ListenConfig(String host, int transactionPort, int sessionPort, int adminPort) {
        this(host, transactionPort, sessionPort, adminPort, AUTO_IO_THREADS, IoTransport.AUTO);
    }

    /**
     * The event-loop threads to start. By default half the cores: a pooler usually shares its machine
     * with Postgres or with its clients, and one thread relays tens of thousands of transactions a second.
     */
    public int effectiveIoThreads(int cores) {
        return ioThreads > 0 ? ioThreads : Math.max(1, cores / 2);
    }

    public static ListenConfig defaults() {
        return new ListenConfig(DEFAULT_HOST, DEFAULT_TRANSACTION_PORT, DEFAULT_SESSION_PORT, DEFAULT_ADMIN_PORT);
    }

    /** All three listeners on free ports chosen by the operating system, on the loopback address. */
    public static ListenConfig ephemeral() {
        return new ListenConfig(DEFAULT_HOST, 0, 0, 0);
    }

    public ListenConfig withHost(String host) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withTransactionPort(int port) {
        return new ListenConfig(host, port, sessionPort, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withSessionPort(int port) {
        return new ListenConfig(host, transactionPort, port, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withIoThreads(int threads) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort, threads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withTransport(IoTransport transport) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withReusePort(boolean reusePort) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withProxyProtocol(ProxyProtocolConfig proxyProtocol) {
        return new ListenConfig(host, transactionPort, sessionPort, adminPort, ioThreads, transport, reusePort, proxyProtocol);
    }

    public ListenConfig withAdminPort(int port) {
        return new ListenConfig(host, transactionPort, sessionPort, port, ioThreads, transport, reusePort, proxyProtocol);
    }
}
