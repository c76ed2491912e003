package dev.pgmux.proxy.server;

import dev.pgmux.proxy.pool.PoolKey;

import java.time.Duration;

/** Where and as whom a pool logs in upstream. The password is never printed. */
public record ServerTarget(PoolKey key, String host, int port, String database, String user, String password,
                           Duration connectTimeout) {
    /**
     * Whether a server logged in for {@code other} is as good as one for this target: same address, database
     * and credentials (the connect timeout does not matter once connected).
     */
    public boolean sameServerAs(ServerTarget other) {
        return host.equals(other.host) && port == other.port && database.equals(other.database)
                && user.equals(other.user) && password.equals(other.password);
    }

    @Override
    public String toString() {
        return "ServerTarget[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
