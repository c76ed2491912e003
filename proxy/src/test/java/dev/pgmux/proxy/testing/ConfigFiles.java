package dev.pgmux.proxy.testing;

import dev.pgmux.config.Durations;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Configurations written as the YAML files operators write, for tests of what reads the file again (reload). */
public final class ConfigFiles {
    private ConfigFiles() {}

    /** Writes {@code config} as YAML: the settings the reload tests change, the rest left to defaults. */
    public static void write(Path file, PgmuxConfig config) throws IOException {
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen:\n")
                .append("  host: ").append(config.listen().host()).append('\n')
                .append("  transaction_port: ").append(config.listen().transactionPort()).append('\n')
                .append("  session_port: ").append(config.listen().sessionPort()).append('\n')
                .append("  admin_port: ").append(config.listen().adminPort()).append('\n')
                .append("  transport: ").append(config.listen().transport().configName()).append('\n');
        if (config.listen().reusePort()) {
            yaml.append("  reuse_port: true\n");
        }
        if (!config.limits().shutdownTimeout().equals(dev.pgmux.config.LimitsConfig.DEFAULT_SHUTDOWN_TIMEOUT)) {
            yaml.append("limits:\n  shutdown_timeout: ").append(Durations.format(config.limits().shutdownTimeout()))
                    .append('\n');
        }
        if (config.tls().enabled()) {
            yaml.append("tls:\n  mode: ").append(config.tls().mode().configName()).append('\n');
            config.tls().certFile().ifPresent(f -> yaml.append("  cert_file: \"").append(f).append("\"\n"));
            config.tls().keyFile().ifPresent(f -> yaml.append("  key_file: \"").append(f).append("\"\n"));
            if (config.tls().selfSigned()) {
                yaml.append("  self_signed: true\n");
            }
        }
        config.defaultTenant().ifPresent(id -> yaml.append("default_tenant: ").append(id).append('\n'));
        yaml.append("tenants:\n");
        for (TenantConfig t : config.tenants()) {
            yaml.append("  - id: ").append(t.id()).append('\n')
                    .append("    upstream: {host: \"").append(t.upstream().host()).append("\", port: ")
                    .append(t.upstream().port()).append(", database: ").append(t.upstream().database()).append("}\n")
                    .append("    pool_size: ").append(t.poolSize()).append('\n')
                    .append("    min_idle: ").append(t.minIdle()).append('\n')
                    .append("    max_clients: ").append(t.maxClients()).append('\n')
                    .append("    checkout_timeout: ").append(Durations.format(t.checkoutTimeout())).append('\n')
                    .append("    idle_timeout: ").append(Durations.format(t.idleTimeout())).append('\n')
                    .append("    databases: ").append(t.allowedDatabases()).append('\n')
                    .append("    users:\n");
            for (UserConfig u : t.users()) {
                yaml.append("      - {name: ").append(u.name()).append(", password: \"").append(u.password()).append("\"}\n");
            }
        }
        writeUsers(yaml, "admin_users", config.console().adminUsers());
        writeUsers(yaml, "stats_users", config.console().statsUsers());
        Files.writeString(file, yaml);
    }

    private static void writeUsers(StringBuilder yaml, String key, List<UserConfig> users) {
        if (!users.isEmpty()) {
            yaml.append(key).append(":\n");
            for (UserConfig u : users) {
                yaml.append("  - {name: ").append(u.name()).append(", password: \"").append(u.password()).append("\"}\n");
            }
        }
    }
}
