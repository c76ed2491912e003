package dev.pgmux.proxy;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.cancel.CancelRegistry;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientRegistry;
import dev.pgmux.proxy.log.Logs;
import dev.pgmux.proxy.metrics.Metrics;
import dev.pgmux.proxy.console.Console;
import dev.pgmux.proxy.pool.PoolRegistry;
import dev.pgmux.proxy.prepared.StatementCache;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.tenant.TenantRegistry;
import io.netty.handler.ssl.SslContext;

import java.security.SecureRandom;

/**
 * The services every client connection uses: configuration, tenants, pools, cancel keys, the upstream
 * connector and the TLS context for clients. Configuration, tenants and pools change in place on reload.
 *
 * @param current      the configuration in effect and its TLS context (see {@link #config()})
 * @param mockScramKey process-wide secret from which unknown users' mock SCRAM salts are derived
 * @param statements   the process-wide interning of prepared statement definitions (transaction mode)
 * @param clients      every client connection, for the admin views and the metrics
 * @param console      the admin console: its users, RELOAD and SHUTDOWN, its statistics
 * @param logs         the operator logs: connection lines, statistics lines, repeats held back, output format
 * @param peerCancels  cancel requests for keys another instance holds (none without a metadata database)
 * @param leases       this instance's shares of the tenants' pool_size and max_clients; null without a metadata
 *                     database
 */
public record ProxyRuntime(CurrentConfig current, TenantRegistry tenants, PoolRegistry pools,
                           CancelRegistry<ClientConnection> cancels, ServerConnector connector,
                           SecureRandom random, byte[] mockScramKey, StatementCache statements,
                           ClientRegistry clients, Metrics metrics, Console console, Logs logs,
                           dev.pgmux.proxy.cluster.PeerCancels peerCancels,
                           dev.pgmux.proxy.cluster.SlotLeases leases) {

    /** The configuration in effect now: read it when it is needed, not once at start. */
    public PgmuxConfig config() {
        return current.config();
    }

    /** The TLS context offered to clients now, or null when TLS is disabled. */
    public SslContext clientTls() {
        return current.clientTls();
    }
}
