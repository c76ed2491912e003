package dev.pgmux.config;

import java.util.Locale;

/**
 * How named prepared statements are handled in transaction mode, where consecutive transactions
 * of one client may run on different server connections. Session mode always behaves as
 * {@link #PASSTHROUGH}: a client has its own server for its whole session.
 */
public enum PreparedStatementMode {
    /**
     * Each client's named statements are renamed to shared server-side names and prepared again on
     * whichever server the client lands on, so drivers that prepare statements work unchanged.
     */
    REWRITE,
    /** Named statements become unnamed ones, parsed again at each Bind: no state is kept on servers. */
    STRIP,
    /** Forwarded untouched: safe only for clients that never use named statements. */
    PASSTHROUGH;

    /** The name as written in the configuration file: {@code rewrite}, {@code strip}, {@code passthrough}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
