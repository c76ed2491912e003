package dev.pgmux.proxy.client;

/** How long a client holds a server: its whole session, or one transaction. Chosen by the port it connects to. */
public enum PoolingMode {
    SESSION, TRANSACTION
}
