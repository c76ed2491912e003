package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them: {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 1m30s}; a bare number is seconds. */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    private Durations() {}

    public static Duration parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.matches("\\d+(\\.\\d+)?")) {
            return Duration.ofNanos(Math.round(Double.parseDouble(t) * 1e9));
        }
        Matcher m = PART.matcher(t);
        long nanos = 0;
        int at = 0;
        while (m.lookingAt()) {
            double v = Double.parseDouble(m.group(1));
            nanos += Math.round(v * switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            });
            at = m.end();
            m.region(at, t.length());
        }
        if (at == 0 || at != t.length()) {
            throw new IllegalArgumentException("not a duration: \"" + text + "\" (use e.g. 500ms, 30s, 2m, 1m30s)");
        }
        return Duration.ofNanos(nanos);
    }

    /** The shortest exact form: {@code 250ms}, {@code 30s}, {@code 1m30s}, {@code 1.5s}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0 && !d.isZero()) {
            return d.toNanos() / 1000 + "µs";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms % 1000 != 0) {
            return String.format(Locale.ROOT, "%.3fs", ms / 1000.0).replaceAll("0+s$", "s");
        }
        long s = ms / 1000;
        StringBuilder b = new StringBuilder();
        if (s >= 3600) {
            b.append(s / 3600).append('h');
            s %= 3600;
        }
        if (s >= 60) {
            b.append(s / 60).append('m');
            s %= 60;
        }
        if (s > 0 || b.isEmpty()) {
            b.append(s).append('s');
        }
        return b.toString();
    }
}
