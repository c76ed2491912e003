package dev.pgmux.proxy.server;

import dev.pgmux.proxy.pool.PoolKey;

import java.time.Duration;

/** Where and as whom a pool logs in upstream. The password is never printed. */
public record ServerTarget(PoolKey key, String host, int port, String database, String user, String password,
                           Duration connectTimeout) {
    @Override
    public String toString() {
        return "ServerTarget[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
