package dev.pgmux.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes as written in the configuration: {@code 8192}, {@code 512B}, {@code 64kB}, {@code 16MB}, {@code 1GB} (1024-based). */
public final class Sizes {

    public static final long KB = 1024;
    public static final long MB = 1024 * KB;
    public static final long GB = 1024 * MB;

    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+)\\s*(B|kB|KB|MB|GB)?\\s*");

    private Sizes() {
    }

    /**
     * Parses a size in bytes; a number without a unit is bytes.
     *
     * @throws IllegalArgumentException with a message fit for a user
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text);
        if (m.matches()) {
            try {
                long amount = Long.parseLong(m.group(1));
                long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
                    case "B" -> 1;
                    case "kB", "KB" -> KB;
                    case "MB" -> MB;
                    case "GB" -> GB;
                    default -> throw new IllegalStateException(m.group(2));
                };
                return Math.multiplyExact(amount, unit);
            } catch (NumberFormatException | ArithmeticException tooLarge) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("not a size: \"" + text + "\" (use e.g. 8192, 64kB, 16MB, 1GB)");
    }

    /** Formats in the largest unit that is exact; plain bytes have no unit. Parses back to the same value. */
    public static String format(long bytes) {
        if (bytes != 0 && bytes % GB == 0) {
            return bytes / GB + "GB";
        }
        if (bytes != 0 && bytes % MB == 0) {
            return bytes / MB + "MB";
        }
        if (bytes != 0 && bytes % KB == 0) {
            return bytes / KB + "kB";
        }
        return Long.toString(bytes);
    }
}
