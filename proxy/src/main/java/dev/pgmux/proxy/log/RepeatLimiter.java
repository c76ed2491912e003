package dev.pgmux.proxy.log;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets the first line of each key through and holds back its repeats for an interval, counting them: key ->
 * when its interval began, how many lines it held back, and what to say about them ({@code T}). Once the
 * interval is over, the next line of the key goes through again, and the count of the held-back ones is handed
 * out once: with that next line ({@link Admission#heldBack()}) or, when none comes, by {@link #expired}.
 *
 * <p>Thread-safe: each key's window changes atomically. At most {@value #MAX_KEYS} keys are followed; lines of
 * further keys go through uncounted rather than be lost.
 */
public final class RepeatLimiter<T> {
    public static final int MAX_KEYS = 10_000;

    /** Lines of {@code key} held back since {@code sinceNanos}: {@code count} of them, described by {@code about}. */
    public record HeldBack<T>(String key, T about, long count, long sinceNanos) {}

    /**
     * Whether to write the line, and the lines of its key held back in the interval before, if any (null when
     * none).
     */
    public record Admission<T>(boolean write, HeldBack<T> heldBack) {}

    private record Window<T>(long startNanos, long held, T about) {}

    private static final Admission<?> WRITE = new Admission<>(true, null);
    private static final Admission<?> HOLD = new Admission<>(false, null);

    private final ConcurrentHashMap<String, Window<T>> windows = new ConcurrentHashMap<>();

    /**
     * A line of {@code key} at {@code nowNanos}: written when it is the first of its key or its key's interval is
     * over, held back (and counted) otherwise. An interval of zero or less writes every line.
     */
    @SuppressWarnings("unchecked")
    public Admission<T> admit(String key, T about, long intervalNanos, long nowNanos) {
        if (intervalNanos <= 0 || (windows.size() >= MAX_KEYS && !windows.containsKey(key))) {
            return (Admission<T>) WRITE;
        }
        Object[] outcome = new Object[1];
        windows.compute(key, (k, window) -> {
            if (window == null || nowNanos - window.startNanos() >= intervalNanos) {
                outcome[0] = window == null || window.held() == 0 ? WRITE
                        : new Admission<>(true, new HeldBack<>(k, window.about(), window.held(), window.startNanos()));
                return new Window<>(nowNanos, 0, about);
            }
            outcome[0] = HOLD;
            return new Window<>(window.startNanos(), window.held() + 1, about);
        });
        return (Admission<T>) outcome[0];
    }

    /**
     * Forgets the keys whose interval is over at {@code nowNanos} and returns those that held lines back (each
     * once: a later line of the key starts afresh).
     */
    public List<HeldBack<T>> expired(long intervalNanos, long nowNanos) {
        List<HeldBack<T>> out = new ArrayList<>();
        for (String key : windows.keySet()) {
            windows.computeIfPresent(key, (k, window) -> {
                if (nowNanos - window.startNanos() < intervalNanos) {
                    return window;
                }
                if (window.held() > 0) {
                    out.add(new HeldBack<>(k, window.about(), window.held(), window.startNanos()));
                }
                return null;
            });
        }
        return out;
    }

    /** How many keys are followed now. */
    public int size() {
        return windows.size();
    }
}
