package dev.pgmux.proxy.console;

import dev.pgmux.config.Durations;
import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.LogLevel;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.console.Console.User;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * SHOW CONFIG: key, value, default, changeable. First the PgBouncer settings that have a meaning in pgmux
 * (what monitoring reads: max_client_conn, max_user_connections), then pgmux's own global settings under
 * their YAML paths. Tenant settings are in SHOW TENANTS and SHOW DATABASES. Values are never secrets.
 */
final class ShowConfig {
    private ShowConfig() {}

    static Result.Rows rows(PgmuxConfig config, Console console) {
        List<List<Object>> rows = new ArrayList<>();
        ListenConfig listen = config.listen();
        LimitsConfig limits = config.limits();
        long maxClients = 0;
        for (TenantConfig tenant : config.tenants()) {
            maxClients += tenant.maxClients();
        }
        // PgBouncer's names. max_client_conn: the most clients pgmux accepts, every tenant's max_clients summed.
        row(rows, "listen_addr", listen.host(), ListenConfig.DEFAULT_HOST, false);
        row(rows, "listen_port", listen.transactionPort(), ListenConfig.DEFAULT_TRANSACTION_PORT, false);
        row(rows, "max_client_conn", maxClients, null, true);
        row(rows, "max_db_connections", 0, 0, false);
        row(rows, "max_user_connections", 0, 0, false);
        row(rows, "auth_type", "scram-sha-256", "scram-sha-256", false);
        row(rows, "admin_users", names(console, Console.Role.ADMIN), "", true);
        row(rows, "stats_users", names(console, Console.Role.STATS), "", true);
        row(rows, "stats_period", 60, 60, false); // of SHOW STATS_AVERAGES; the log line's is log.stats_period
        LogConfig log = config.log();
        row(rows, "log_connections", log.logConnections() ? 1 : 0, LogConfig.DEFAULT_LOG_CONNECTIONS ? 1 : 0, true);
        row(rows, "log_disconnections", log.logDisconnections() ? 1 : 0, LogConfig.DEFAULT_LOG_DISCONNECTIONS ? 1 : 0,
                true);
        row(rows, "log_stats", log.logStats() ? 1 : 0, 1, true);
        // pgmux's own, as written in the configuration file.
        row(rows, "listen.host", listen.host(), ListenConfig.DEFAULT_HOST, false);
        row(rows, "listen.transaction_port", listen.transactionPort(), ListenConfig.DEFAULT_TRANSACTION_PORT, false);
        row(rows, "listen.session_port", listen.sessionPort(), ListenConfig.DEFAULT_SESSION_PORT, false);
        row(rows, "listen.admin_port", listen.adminPort(), ListenConfig.DEFAULT_ADMIN_PORT, false);
        row(rows, "listen.io_threads", listen.ioThreads(), ListenConfig.AUTO_IO_THREADS, false);
        row(rows, "listen.transport", listen.transport().configName(), "auto", false);
        row(rows, "listen.reuse_port", listen.reusePort(), false, false);
        row(rows, "listen.proxy_protocol", listen.proxyProtocol().mode().configName(), "off", false);
        row(rows, "listen.proxy_protocol_networks", String.join(",", listen.proxyProtocol().networks()), "", false);
        row(rows, "cluster.metadata_url", config.cluster().metadataUrl().map(dev.pgmux.config.MetadataUrl::redacted)
                .orElse(""), "", false);
        row(rows, "cluster.refresh_interval", Durations.format(config.cluster().refreshInterval()),
                Durations.format(dev.pgmux.config.ClusterConfig.DEFAULT_REFRESH_INTERVAL), false);
        row(rows, "tls.mode", config.tls().mode().configName(), "disabled", false);
        row(rows, "limits.max_frame_size", limits.maxFrameSize(), LimitsConfig.DEFAULT_MAX_FRAME_SIZE, true);
        row(rows, "limits.max_startup_packet_size", limits.maxStartupPacketSize(),
                LimitsConfig.DEFAULT_MAX_STARTUP_PACKET_SIZE, true);
        row(rows, "limits.login_timeout", Durations.format(limits.loginTimeout()),
                Durations.format(LimitsConfig.DEFAULT_LOGIN_TIMEOUT), true);
        row(rows, "limits.server_keepalive_idle", Durations.format(limits.serverKeepalive().idle()),
                Durations.format(LimitsConfig.Keepalive.DEFAULT.idle()), false);
        row(rows, "limits.server_keepalive_interval", Durations.format(limits.serverKeepalive().interval()),
                Durations.format(LimitsConfig.Keepalive.DEFAULT.interval()), false);
        row(rows, "limits.server_keepalive_count", limits.serverKeepalive().count(),
                LimitsConfig.Keepalive.DEFAULT.count(), false);
        row(rows, "limits.shutdown_timeout", Durations.format(limits.shutdownTimeout()),
                Durations.format(LimitsConfig.DEFAULT_SHUTDOWN_TIMEOUT), true);
        row(rows, "log.format", log.format().configName(), LogConfig.DEFAULT_FORMAT.configName(), true);
        row(rows, "log.level", log.level().map(LogLevel::configName).orElse(""), "", true);
        row(rows, "log.stats_period", Durations.format(log.statsPeriod()),
                Durations.format(LogConfig.DEFAULT_STATS_PERIOD), true);
        row(rows, "log.repeat_interval", Durations.format(log.repeatInterval()),
                Durations.format(LogConfig.DEFAULT_REPEAT_INTERVAL), true);
        row(rows, "default_tenant", config.defaultTenant().orElse(""), "", true);
        return Result.Rows.of(ShowTable.CONFIG, rows);
    }

    private static String names(Console console, Console.Role role) {
        return String.join(",", console.users().stream().filter(u -> u.role() == role).map(User::name).toList());
    }

    private static void row(List<List<Object>> rows, String key, Object value, Object defaultValue, boolean changeable) {
        rows.add(Arrays.asList(key, String.valueOf(value), defaultValue == null ? null : String.valueOf(defaultValue),
                changeable ? "yes" : "no"));
    }
}
