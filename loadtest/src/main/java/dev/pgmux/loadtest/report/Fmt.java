package dev.pgmux.loadtest.report;

import java.util.Locale;

/** Number formats shared by the console and the reports: one place, so they show the same digits. */
public final class Fmt {
    private Fmt() {}

    /** Milliseconds with three significant digits: {@code 0.412}, {@code 4.12}, {@code 41.2}, {@code 412}, {@code 4,120}. */
    public static String ms(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a < 1) {
            return String.format(Locale.ROOT, "%.3f", v);
        }
        if (a < 10) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (a < 100) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    /** A count with thousands separators. */
    public static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    /** A rate: one decimal below 100, none above. */
    public static String rate(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return Math.abs(v) < 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%,.0f", v);
    }

    public static String percent(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        if (v == 0) {
            return "0%";
        }
        return v < 0.01 ? "<0.01%" : String.format(Locale.ROOT, "%.2f%%", v);
    }

    /** Seconds as {@code m:ss} (or {@code h:mm:ss}). */
    public static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** A plain number for axes: no trailing zeros. */
    public static String axis(double v) {
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        // six significant digits, no float noise (0.1 + 0.2), no trailing zeros
        return java.math.BigDecimal.valueOf(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    }

    /** A measured value in its metric's unit: {@code 12.3 ms}, {@code 0.50%}, {@code 812 req/s}; {@code n/a} if nothing was measured. */
    public static String metric(dev.pgmux.loadtest.dsl.Assertion.Metric metric, double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return switch (metric.unit()) {
            case "%" -> String.format(Locale.ROOT, "%.2f%%", v);
            case "ms" -> ms(v) + " ms";
            default -> rate(v) + " " + metric.unit();
        };
    }
}
