package dev.pgmux.proxy.server;

import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.tls.UpstreamTlsContext;

import java.time.Duration;

/**
 * Where and as whom a pool logs in upstream, and with which TLS ({@code tls}: the tenant's settings and the
 * context built from them, shared by its servers). The credentials are never printed.
 */
public record ServerTarget(PoolKey key, String host, int port, String database, String user, Credentials credentials,
                           Duration connectTimeout, UpstreamTlsContext tls) {
    /**
     * Whether a server logged in for {@code other} is as good as one for this target: same address, database,
     * credentials and TLS settings (the connect timeout does not matter once connected, nor whether the TLS
     * context was built again from the same settings).
     */
    public boolean sameServerAs(ServerTarget other) {
        return host.equals(other.host) && port == other.port && database.equals(other.database)
                && user.equals(other.user) && credentials.sameAs(other.credentials)
                && tls.settings().equals(other.tls.settings());
    }

    /** Whether a server can be logged in now: a verifier's ClientKey comes from a client's login first. */
    public boolean canLogIn() {
        return credentials.ready();
    }

    @Override
    public String toString() {
        return "ServerTarget[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
