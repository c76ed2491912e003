package dev.pgmux.loadtest.report;

import java.util.ArrayList;
import java.util.List;

/** A linear axis from {@code min} to {@code max} with round tick values. */
record Axis(double min, double max, List<Double> ticks) {

    /** An axis from 0 (or below, for negative data) to at least {@code dataMax}, ending on a round tick. */
    static Axis fromZero(double dataMin, double dataMax, int wantedTicks) {
        double lo = Math.min(0, dataMin);
        double hi = dataMax > lo ? dataMax : lo + 1;
        double step = niceStep((hi - lo) / wantedTicks);
        double top = Math.ceil(hi / step - 1e-9) * step;
        double bottom = Math.floor(lo / step + 1e-9) * step;
        return new Axis(bottom, top, ticks(bottom, top, step));
    }

    /** An axis exactly from {@code min} to {@code max} with round ticks inside. */
    static Axis span(double min, double max, int wantedTicks) {
        if (max <= min) {
            max = min + 1;
        }
        double step = niceStep((max - min) / wantedTicks);
        double first = Math.ceil(min / step - 1e-9) * step;
        return new Axis(min, max, ticks(first, max, step));
    }

    double fraction(double v) {
        return (v - min) / (max - min);
    }

    private static List<Double> ticks(double from, double to, double step) {
        List<Double> t = new ArrayList<>();
        for (int i = 0; ; i++) {
            double v = from + i * step;
            if (v > to + step * 1e-6 || i > 1000) {
                break;
            }
            t.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        return t;
    }

    /** 1, 2, 2.5 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0)) {
            return 1;
        }
        double pow = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * pow >= raw * (1 - 1e-9)) {
                return m * pow;
            }
        }
        return 10 * pow;
    }
}
