package dev.pgmux.loadtest.sweep;

/** How a sweep gives its pgmux points their pgmux. */
public enum PgmuxPoints {
    /** One pgmux process for the whole sweep: between points its file is rewritten and {@code POST /reload} applies the new pool_size. */
    RELOAD("reload", "one pgmux process for the whole sweep; pool_size changed between points by POST /reload"),
    /** A pgmux process started with each point's pool_size and stopped after the point ({@code --restart-per-point}). */
    RESTART("restart", "a fresh pgmux process for every point, started with its pool_size (--restart-per-point)");

    private final String id;
    private final String description;

    PgmuxPoints(String id, String description) {
        this.id = id;
        this.description = description;
    }

    /** {@code reload} or {@code restart}, as in sweep.json. */
    public String id() {
        return id;
    }

    public String description() {
        return description;
    }
}
