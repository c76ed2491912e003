package dev.pgmux.config;

import java.util.Locale;

/** How a client's server connection is pooled: for its whole session, or for each transaction. */
public enum PoolMode {
    SESSION,
    TRANSACTION;

    /** As written in the configuration: {@code session}, {@code transaction}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
