package dev.pgmux.proxy.tls;

import dev.pgmux.config.UpstreamTls;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The upstream TLS contexts in use, one per distinct {@link UpstreamTls} (tenants with the same settings
 * share one). A context is built the first time a pool needs it and kept; a reload {@linkplain #refresh()
 * forgets them all}, so the PEM files are read again (a certificate renewed at the same path is picked up by
 * the servers opened from then on) while the servers already open are kept unless their settings changed.
 */
public final class UpstreamTlsContexts {
    private final ConcurrentHashMap<UpstreamTls, UpstreamTlsContext> contexts = new ConcurrentHashMap<>();

    /** The context for these settings, built now if it is not yet known. */
    public UpstreamTlsContext forSettings(UpstreamTls settings) {
        return contexts.computeIfAbsent(settings, UpstreamTlsContext::build);
    }

    /** Forgets every context (after a reload): the next use of each builds it again from its files. */
    public void refresh() {
        contexts.clear();
    }
}
