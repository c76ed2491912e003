package dev.pgmux.config;

import java.util.List;
import java.util.Objects;

/**
 * Who may use the admin console, the virtual database {@code pgbouncer} (also {@code pgmux}) on either
 * client port. Admin users may run every console command; stats users only the {@code SHOW} commands.
 * They log in with their plain name (no {@code .tenant} suffix) and their own password (SCRAM-SHA-256);
 * they are not tenant users and reach no upstream server. Names are unique across both lists and carry no
 * dot, so a console login can never be read as {@code user.tenant}.
 *
 * @param adminUsers YAML {@code admin_users}
 * @param statsUsers YAML {@code stats_users}
 */
public record ConsoleConfig(List<UserConfig> adminUsers, List<UserConfig> statsUsers) {

    /** The database names that reach the console instead of a tenant's database. */
    public static final List<String> DATABASES = List.of("pgbouncer", "pgmux");

    public ConsoleConfig {
        adminUsers = List.copyOf(Objects.requireNonNull(adminUsers, "adminUsers"));
        statsUsers = List.copyOf(Objects.requireNonNull(statsUsers, "statsUsers"));
    }

    /** No console users: the console refuses every login. */
    public static ConsoleConfig none() {
        return new ConsoleConfig(List.of(), List.of());
    }

    public static boolean isConsoleDatabase(String database) {
        return database != null && DATABASES.contains(database);
    }
}
