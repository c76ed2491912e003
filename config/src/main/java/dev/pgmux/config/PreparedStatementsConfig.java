package dev.pgmux.config;

import java.util.Objects;

/**
 * Named prepared statements of a tenant's clients in transaction mode.
 *
 * @param mode         how named statements are handled
 * @param maxPerServer statements pgmux keeps prepared on each server connection; beyond that the
 *                     least recently used one is closed ({@code REWRITE} only)
 * @param maxPerClient named statements one client may hold at once
 * @param cacheUnnamed unnamed statements are served from the same shared server-side statements as named
 *                     ones ({@code REWRITE} only; see docs/transaction-mode.md)
 * @param unnamedPlans how Postgres plans the unnamed statements served that way
 */
public record PreparedStatementsConfig(PreparedStatementMode mode, int maxPerServer, int maxPerClient,
                                       boolean cacheUnnamed, UnnamedStatementPlans unnamedPlans) {

    public static final PreparedStatementMode DEFAULT_MODE = PreparedStatementMode.REWRITE;
    public static final int DEFAULT_MAX_PER_SERVER = 500;
    public static final int DEFAULT_MAX_PER_CLIENT = 10_000;
    public static final boolean DEFAULT_CACHE_UNNAMED = false;
    public static final UnnamedStatementPlans DEFAULT_UNNAMED_PLANS = UnnamedStatementPlans.CUSTOM;

    public PreparedStatementsConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(unnamedPlans, "unnamedPlans");
    }

    /** The given handling of named statements, with the defaults for unnamed ones. */
    public PreparedStatementsConfig(PreparedStatementMode mode, int maxPerServer, int maxPerClient) {
        this(mode, maxPerServer, maxPerClient, DEFAULT_CACHE_UNNAMED, DEFAULT_UNNAMED_PLANS);
    }

    /** {@code rewrite}, 500 per server connection, 10000 per client, unnamed statements forwarded as they are. */
    public static PreparedStatementsConfig defaults() {
        return new PreparedStatementsConfig(DEFAULT_MODE, DEFAULT_MAX_PER_SERVER, DEFAULT_MAX_PER_CLIENT);
    }

    /** Whether unnamed statements are served from shared server-side statements: only where named ones are. */
    public boolean cachesUnnamed() {
        return cacheUnnamed && mode == PreparedStatementMode.REWRITE;
    }

    public PreparedStatementsConfig withMode(PreparedStatementMode mode) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient, cacheUnnamed, unnamedPlans);
    }

    public PreparedStatementsConfig withMaxPerServer(int maxPerServer) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient, cacheUnnamed, unnamedPlans);
    }

    public PreparedStatementsConfig withMaxPerClient(int maxPerClient) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient, cacheUnnamed, unnamedPlans);
    }

    public PreparedStatementsConfig withCacheUnnamed(boolean cacheUnnamed) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient, cacheUnnamed, unnamedPlans);
    }

    public PreparedStatementsConfig withUnnamedPlans(UnnamedStatementPlans unnamedPlans) {
        return new PreparedStatementsConfig(mode, maxPerServer, maxPerClient, cacheUnnamed, unnamedPlans);
    }
}
