package dev.pgmux.config;

import java.util.Objects;

/**
 * Named prepared statements of a tenant's clients in transaction mode.
 *
 * @param mode         how named statements are handled
 * @param maxPerServer statements pgmux keeps prepared on each server connection; beyond that the
 *                     least recently used one is closed ({@code REWRITE} only)
 * @param maxPerClient named statements one client may hold at once
 */
public record PreparedStatementsConfig(PreparedStatementMode mode, int maxPerServer, int maxPerClient) {

    public static final PreparedStatementMode DEFAULT_MODE = PreparedStatementMode.REWRITE;
    public static final int DEFAULT_MAX_PER_SERVER = 500;
    public static final int DEFAULT_MAX_PER_CLIENT = 10_000;

    public PreparedStatementsConfig {
        Objects.requireNonNull(mode, "mode");
    }

    /** {@code rewrite}, 500 per server connection, 10000 per client. */
    public static PreparedStatementsConfig defaults() {
        return new PreparedStatementsConfig(DEFAULT_MODE, DEFAULT_MAX_PER_SERVER, DEFAULT_MAX_PER_CLIENT);
    }

    public PreparedStatementsConfig withMode(PreparedStatementMode mode) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient);
    }

    public PreparedStatementsConfig withMaxPerServer(int maxPerServer) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient);
    }

    public PreparedStatementsConfig withMaxPerClient(int maxPerClient) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient);
    }
}
