package dev.pgmux.proxy;

import dev.pgmux.config.PgmuxConfig;
import io.netty.handler.ssl.SslContext;

/**
 * The configuration in effect and the TLS context for clients built from it. A reload replaces both in one
 * step, so a reader never sees the settings of one file with the certificate of another. Whatever reads
 * settings at run time reads them here (or from its {@link dev.pgmux.proxy.tenant.Tenant}), never from a
 * copy taken at start.
 */
public final class CurrentConfig {
    private record Applied(PgmuxConfig config, SslContext clientTls) {}

    private volatile Applied applied;

    public CurrentConfig(PgmuxConfig config, SslContext clientTls) {
        this.applied = new Applied(config, clientTls);
    }

    public PgmuxConfig config() {
        return applied.config();
    }

    /** The TLS context offered to clients, or null when TLS is disabled. */
    public SslContext clientTls() {
        return applied.clientTls();
    }

    /** For the reload only, after the new configuration was checked and its TLS context built. */
    public void set(PgmuxConfig config, SslContext clientTls) {
        this.applied = new Applied(config, clientTls);
    }
}
