package dev.pgmux.proxy;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.cancel.CancelRegistry;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientRegistry;
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
 * connector and the TLS context for clients (null when TLS is disabled).
 *
 * @param mockScramKey process-wide secret from which unknown users' mock SCRAM salts are derived
 * @param statements   the process-wide interning of prepared statement definitions (transaction mode)
 * @param clients      every client connection, for the admin views and the metrics
 * @param console      the admin console: its users, RELOAD and SHUTDOWN, its statistics
 */
public record ProxyRuntime(PgmuxConfig config, TenantRegistry tenants, PoolRegistry pools,
                           CancelRegistry<ClientConnection> cancels, ServerConnector connector,
                           SslContext clientTls, SecureRandom random, byte[] mockScramKey,
                           StatementCache statements, ClientRegistry clients, Metrics metrics,
                           Console console) {
}
