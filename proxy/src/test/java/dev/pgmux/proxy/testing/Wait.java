package dev.pgmux.proxy.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** The one bounded wait of the tests: polls a real condition until it holds, or fails saying what it waited for. */
public final class Wait {
    /** How long a condition that should hold soon may take. */
    public static final Duration DEFAULT = Duration.ofSeconds(15);

    private Wait() {}

    /** A condition that may throw while it does not hold yet. */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    public static void until(String what, Condition condition) {
        until(what, DEFAULT, condition, () -> "-");
    }

    /** As {@link #until(String, Duration, Condition, Supplier)} within {@link #DEFAULT}. */
    public static void until(String what, Condition condition, Supplier<String> state) {
        until(what, DEFAULT, condition, state);
    }

    public static void until(String what, Duration max, Condition condition) {
        until(what, max, condition, () -> "-");
    }

    /**
     * Polls {@code condition} every 10 ms until it holds; after {@code max} fails with {@code what}, the last
     * {@code state} and the last exception the condition threw (exceptions count as "not yet").
     */
    public static void until(String what, Duration max, Condition condition, Supplier<String> state) {
        long deadline = System.nanoTime() + max.toNanos();
        Exception last = null;
        for (;;) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError error = new AssertionError("not within " + max.toMillis() + " ms: " + what
                        + "; last state: " + state.get() + (last == null ? "" : "; last error: " + last));
                if (last != null) {
                    error.initCause(last);
                }
                throw error;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
