package dev.pgmux.loadtest.stats;

/**
 * Virtual users at one instant: running now, started and finished since the start, and the users an
 * open-model injector did not start because the cap on active users was reached.
 */
public record UserCounts(int active, long started, long finished, long dropped) {
    public static final UserCounts NONE = new UserCounts(0, 0, 0, 0);
}
