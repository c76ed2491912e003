package dev.pgmux.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as written in the configuration: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, or plain milliseconds. */
public final class Durations {

    private static final Pattern DURATION = Pattern.compile("\\s*(-?\\d+)\\s*(ms|s|m|h)?\\s*");

    private Durations() {
    }

    /**
     * Parses a duration; a number without a unit is milliseconds.
     *
     * @throws IllegalArgumentException with a message fit for a user
     */
    public static Duration parse(String text) {
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            try {
                long amount = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "ms" : m.group(2);
                return switch (unit) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> throw new IllegalStateException(unit);
                };
            } catch (NumberFormatException | ArithmeticException tooLarge) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("not a duration: \"" + text + "\" (use e.g. 500ms, 30s, 10m, 1h)");
    }

    /** Formats in the largest unit that is exact, so that the result parses back to the same value. */
    public static String format(Duration duration) {
        if (duration.getNano() % 1_000_000 != 0) {
            return duration.toString();
        }
        long millis = duration.toMillis();
        if (millis == 0) {
            return "0s";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1000 == 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }
}
