package dev.pgmux.loadtest.stats;

/** What a recorded request was. */
public enum RequestKind {
    /** Opening a connection (a login with pgjdbc, a checkout with HikariCP). */
    CONNECT,
    /** One statement: a simple query or a prepared one. */
    QUERY,
    /** A user-defined timed action. */
    CUSTOM,
    /**
     * A transaction of several steps, timed from its first statement to its commit. Its statements are
     * recorded on their own too, so transactions are kept out of the global totals (like Gatling groups).
     */
    TRANSACTION;

    public boolean countsInGlobal() {
        return this != TRANSACTION;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
