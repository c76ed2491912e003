package dev.pgmux.config;

import java.util.Locale;

/**
 * How Postgres plans the unnamed statements pgmux serves from shared server-side statements
 * ({@code cache_unnamed_statements}). A direct connection parses an unnamed statement afresh at every
 * Parse, so Postgres plans each execution for its parameter values; a statement prepared once and executed
 * many times may instead switch to one generic plan after five executions.
 */
public enum UnnamedStatementPlans {
    /**
     * Every execution is planned for its parameters, as on a direct connection: pgmux prepares a shared
     * statement again on a server before Postgres could switch it to a generic plan. Saves parsing and
     * analysis, not planning.
     */
    CUSTOM,
    /**
     * Postgres's own rule for prepared statements ({@code plan_cache_mode = auto}): a generic plan once it
     * is estimated no dearer than the custom plans so far. Saves planning too, but on skewed data a generic
     * plan can be much slower for some parameter values.
     */
    AUTO;

    /** The name as written in the configuration file. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
