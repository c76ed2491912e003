package dev.pgmux.proxy.client;

/** Where a client connection is, as the admin console and the metrics count it. */
public enum ClientState {
    /** Connected, not yet welcomed (startup, authentication, the login's first server). */
    LOGIN,
    /** Welcomed and holding no server (transaction mode, between transactions). */
    IDLE,
    /** Waiting for a server from its pool. */
    WAITING,
    /** Holding a server. */
    ACTIVE,
    /** Gone. */
    CLOSED
}
