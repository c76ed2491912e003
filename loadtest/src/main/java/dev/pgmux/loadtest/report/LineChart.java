package dev.pgmux.loadtest.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * An inline SVG line chart: series on a left and optionally a right axis, shaded bands (the warm-up),
 * horizontal reference lines (thresholds, a reference target) and hover columns whose native tooltips
 * list the values at that x. No script needed to read it.
 */
final class LineChart {
    enum Side { LEFT, RIGHT }

    enum Style { LINE, DASHED, AREA, POINTS }

    private record Series(String name, String color, double[] xs, double[] ys, Side side, Style style, String[] tips) {
    }

    /** A horizontal reference line; one that would squash the data (far above it) is only named at the top. */
    private record HLine(double y, Side side, String label, String color, boolean mayExtendAxis, boolean labelRight) {
    }

    private record Band(double x0, double x1, String label) {
    }

    private record VLine(double x, String label, String color) {
    }

    private final int width;
    private final int height;
    private String xLabel = "";
    private String leftLabel = "";
    private String rightLabel = "";
    private Double xMin;
    private Double xMax;
    private List<String> categories;
    private DoubleFunction<String> xFormat = Fmt::axis;
    private final List<Series> series = new ArrayList<>();
    private final List<HLine> hlines = new ArrayList<>();
    private final List<Band> bands = new ArrayList<>();
    private final List<VLine> vlines = new ArrayList<>();
    private double[] columnXs;
    private String[] columnTips;

    LineChart(int width, int height) {
        this.width = width;
        this.height = height;
    }

    LineChart xAxis(String label, double min, double max, DoubleFunction<String> format) {
        this.xLabel = label;
        this.xMin = min;
        this.xMax = max;
        this.xFormat = format;
        return this;
    }

    /** Evenly spaced categories (pool sizes): series x values are indexes into {@code labels}. */
    LineChart xCategories(String label, List<String> labels) {
        this.xLabel = label;
        this.categories = List.copyOf(labels);
        this.xMin = -0.5;
        this.xMax = labels.size() - 0.5;
        return this;
    }

    LineChart leftAxis(String label) {
        this.leftLabel = label;
        return this;
    }

    LineChart rightAxis(String label) {
        this.rightLabel = label;
        return this;
    }

    LineChart series(String name, String color, double[] xs, double[] ys, Side side, Style style, String[] tips) {
        series.add(new Series(name, color, xs, ys, side, style, tips));
        return this;
    }

    LineChart series(String name, String color, double[] xs, double[] ys, Side side, Style style) {
        return series(name, color, xs, ys, side, style, null);
    }

    LineChart hline(double y, Side side, String label, String color) {
        hlines.add(new HLine(y, side, label, color, true, false));
        return this;
    }

    /** A reference level (a target measured once): like a limit, it never squashes the data; labelled at the left. */
    LineChart reference(double y, Side side, String label, String color) {
        hlines.add(new HLine(y, side, label, color, false, false));
        return this;
    }

    /** A threshold: drawn when it is at most 3 times the data's maximum, otherwise named above the plot. */
    LineChart limit(double y, Side side, String label, String color) {
        hlines.add(new HLine(y, side, label, color, false, true));
        return this;
    }

    LineChart band(double x0, double x1, String label) {
        bands.add(new Band(x0, x1, label));
        return this;
    }

    LineChart vline(double x, String label, String color) {
        vlines.add(new VLine(x, label, color));
        return this;
    }

    /** Hover areas around each x with a tooltip (one line per value). */
    LineChart columns(double[] xs, String[] tips) {
        this.columnXs = xs;
        this.columnTips = tips;
        return this;
    }

    String render() {
        boolean right = series.stream().anyMatch(s -> s.side == Side.RIGHT);
        double left = 70;
        double rightEdge = width - (right ? 70 : 28);
        double top = 40;
        double bottom = height - 46;
        Axis x = xAxis();
        Axis yl = yAxis(Side.LEFT);
        Axis yr = yAxis(Side.RIGHT);
        Frame f = new Frame(left, rightEdge, top, bottom, x, yl, yr);

        StringBuilder svg = new StringBuilder(8192);
        svg.append(String.format(Locale.ROOT,
                "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
                width, height));
        for (Band b : bands) {
            double x0 = f.x(Math.max(b.x0, x.min()));
            double x1 = f.x(Math.min(b.x1, x.max()));
            if (x1 > x0) {
                svg.append(rect(x0, top, x1 - x0, bottom - top, "band"));
                // inside the band when it fits, else just above the plot, kept within the chart
                double width = b.label.length() * 6.2;
                if (x1 - x0 >= width + 8) {
                    svg.append(text(x0 + 4, top + 12, "band-label", "start", b.label));
                } else if (x0 + width <= rightEdge) {
                    svg.append(text(x0 + 2, top - 4, "band-label", "start", b.label));
                } else {
                    svg.append(text(x1, top - 4, "band-label", "end", b.label));
                }
            }
        }
        for (double t : yl.ticks()) {
            double y = f.yl(t);
            svg.append(line(left, y, rightEdge, y, "grid"));
            svg.append(text(left - 8, y + 4, "tick", "end", Fmt.axis(t)));
        }
        if (right) {
            for (double t : yr.ticks()) {
                svg.append(text(rightEdge + 8, f.yr(t) + 4, "tick", "start", Fmt.axis(t)));
            }
        }
        xTicks(svg, f);
        svg.append(line(left, bottom, rightEdge, bottom, "axis"));
        svg.append(line(left, top, left, bottom, "axis"));
        if (right) {
            svg.append(line(rightEdge, top, rightEdge, bottom, "axis"));
        }
        svg.append(String.format(Locale.ROOT, "<text class=\"axis-label\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>",
                (top + bottom) / 2, Html.esc(leftLabel)));
        if (right) {
            svg.append(String.format(Locale.ROOT, "<text class=\"axis-label\" transform=\"translate(%.1f %.1f) rotate(90)\" text-anchor=\"middle\">%s</text>",
                    width - 14.0, (top + bottom) / 2, Html.esc(rightLabel)));
        }
        svg.append(text((left + rightEdge) / 2, height - 8, "axis-label", "middle", xLabel));

        for (Series s : series) {
            drawSeries(svg, f, s);
        }
        for (HLine h : hlines) {
            Axis axis = h.side == Side.LEFT ? yl : yr;
            if (h.y > axis.max()) {
                svg.append(String.format(Locale.ROOT, "<text class=\"ref-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">%s</text>",
                        h.labelRight ? rightEdge - 4 : left + 4, top - 6, h.labelRight ? "end" : "start", h.color,
                        Html.esc("↑ " + h.label + " (above the chart)")));
                continue;
            }
            double y = h.side == Side.LEFT ? f.yl(h.y) : f.yr(h.y);
            svg.append(String.format(Locale.ROOT,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"2 4\"/>",
                    left, y, rightEdge, y, h.color));
            // limits are labelled at the right end, reference targets at the left, so the two rarely collide
            boolean atRight = h.labelRight;
            svg.append(String.format(Locale.ROOT, "<text class=\"ref-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">%s</text>",
                    atRight ? rightEdge - 4 : left + 6, y - 5, atRight ? "end" : "start", h.color, Html.esc(h.label)));
        }
        for (int k = 0; k < vlines.size(); k++) {
            VLine v = vlines.get(k);
            double xv = f.x(v.x);
            long sameX = vlines.subList(0, k).stream().filter(o -> o.x == v.x).count();
            svg.append(String.format(Locale.ROOT,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>",
                    xv, top, xv, bottom, v.color));
            svg.append(String.format(Locale.ROOT, "<text class=\"ref-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" fill=\"%s\">%s</text>",
                    xv + 4, top + 12 + 14 * sameX, v.color, Html.esc(v.label)));
        }
        legend(svg, left);
        if (columnXs != null) {
            hoverColumns(svg, f);
        }
        svg.append("</svg>");
        return svg.toString();
    }

    private Axis xAxis() {
        if (categories != null) {
            return new Axis(xMin, xMax, List.of());
        }
        double lo = xMin != null ? xMin : series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.xs)).min().orElse(0);
        double hi = xMax != null ? xMax : series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.xs)).max().orElse(1);
        return Axis.span(lo, hi, 8);
    }

    private Axis yAxis(Side side) {
        double max = 0;
        double min = 0;
        for (Series s : series) {
            if (s.side == side) {
                for (double v : s.ys) {
                    if (!Double.isNaN(v)) {
                        max = Math.max(max, v);
                        min = Math.min(min, v);
                    }
                }
            }
        }
        double dataMax = max;
        for (HLine h : hlines) {
            if (h.side == side && (h.mayExtendAxis || h.y <= 3 * dataMax)) {
                max = Math.max(max, h.y);
            }
        }
        return Axis.fromZero(min, max * 1.05, 5);
    }

    private void xTicks(StringBuilder svg, Frame f) {
        if (categories != null) {
            for (int i = 0; i < categories.size(); i++) {
                double xv = f.x(i);
                svg.append(line(xv, f.bottom, xv, f.bottom + 5, "axis"));
                svg.append(text(xv, f.bottom + 19, "tick", "middle", categories.get(i)));
            }
            return;
        }
        for (double t : f.xAxis.ticks()) {
            double xv = f.x(t);
            svg.append(line(xv, f.bottom, xv, f.bottom + 5, "axis"));
            svg.append(text(xv, f.bottom + 19, "tick", "middle", xFormat.apply(t)));
        }
    }

    private void drawSeries(StringBuilder svg, Frame f, Series s) {
        StringBuilder d = new StringBuilder();
        boolean pen = false;
        double firstX = Double.NaN;
        double lastX = Double.NaN;
        for (int i = 0; i < s.xs.length; i++) {
            if (Double.isNaN(s.ys[i])) {
                pen = false;
                continue;
            }
            double px = f.x(s.xs[i]);
            double py = s.side == Side.LEFT ? f.yl(s.ys[i]) : f.yr(s.ys[i]);
            d.append(pen ? " L" : " M").append(String.format(Locale.ROOT, "%.1f %.1f", px, py));
            pen = true;
            if (Double.isNaN(firstX)) {
                firstX = px;
            }
            lastX = px;
        }
        if (d.isEmpty()) {
            return;
        }
        if (s.style == Style.AREA) {
            double base = s.side == Side.LEFT ? f.yl(0) : f.yr(0);
            svg.append(String.format(Locale.ROOT, "<path d=\"%s L%.1f %.1f L%.1f %.1f Z\" fill=\"%s\" fill-opacity=\"0.14\" stroke=\"none\"/>",
                    d.toString().strip(), lastX, base, firstX, base, s.color));
        }
        String dash = s.style == Style.DASHED ? " stroke-dasharray=\"7 4\"" : "";
        svg.append(String.format(Locale.ROOT,
                "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linejoin=\"round\"%s/>",
                d.toString().strip(), s.color, s.style == Style.POINTS ? "2.5" : "1.8", dash));
        if (s.style == Style.POINTS) {
            // later series get smaller markers, so points of series with equal values stay visible, nested
            long earlier = series.stream().takeWhile(o -> o != s).filter(o -> o.style == Style.POINTS).count();
            double radius = Math.max(2.5, 6.5 - 2 * earlier);
            for (int i = 0; i < s.xs.length; i++) {
                if (Double.isNaN(s.ys[i])) {
                    continue;
                }
                double py = s.side == Side.LEFT ? f.yl(s.ys[i]) : f.yr(s.ys[i]);
                svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#fff\" stroke=\"%s\" stroke-width=\"2.5\">",
                        f.x(s.xs[i]), py, radius, s.color));
                if (s.tips != null && s.tips[i] != null) {
                    svg.append("<title>").append(Html.esc(s.tips[i])).append("</title>");
                }
                svg.append("</circle>");
            }
        }
    }

    private void legend(StringBuilder svg, double left) {
        double x = left;
        double y = 18;
        for (Series s : series) {
            String dash = s.style == Style.DASHED ? " stroke-dasharray=\"7 4\"" : "";
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"%s/>",
                    x, y - 4, x + 20, y - 4, s.color, dash));
            String name = s.name + (s.side == Side.RIGHT && !rightLabel.isEmpty() ? " (right axis)" : "");
            svg.append(text(x + 26, y, "legend", "start", name));
            x += 40 + name.length() * 6.6;
        }
    }

    private void hoverColumns(StringBuilder svg, Frame f) {
        for (int i = 0; i < columnXs.length; i++) {
            double here = f.x(columnXs[i]);
            double prev = i == 0 ? f.left : (f.x(columnXs[i - 1]) + here) / 2;
            double next = i == columnXs.length - 1 ? f.right : (f.x(columnXs[i + 1]) + here) / 2;
            prev = Math.max(f.left, prev);
            next = Math.min(f.right, next);
            if (next <= prev) {
                continue;
            }
            svg.append(String.format(Locale.ROOT,
                    "<rect class=\"hover\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s</title></rect>",
                    prev, f.top, next - prev, f.bottom - f.top, Html.esc(columnTips[i])));
        }
    }

    private static String line(double x1, double y1, double x2, double y2, String cls) {
        return String.format(Locale.ROOT, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", cls, x1, y1, x2, y2);
    }

    private static String rect(double x, double y, double w, double h, String cls) {
        return String.format(Locale.ROOT, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", cls, x, y, w, h);
    }

    static String text(double x, double y, String cls, String anchor, String content) {
        return String.format(Locale.ROOT, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>",
                cls, x, y, anchor, Html.esc(content));
    }

    /** Plot-area geometry and scales. */
    private record Frame(double left, double right, double top, double bottom, Axis xAxis, Axis yLeft, Axis yRight) {
        double x(double v) {
            return left + xAxis.fraction(v) * (right - left);
        }

        double yl(double v) {
            return bottom - yLeft.fraction(v) * (bottom - top);
        }

        double yr(double v) {
            return bottom - yRight.fraction(v) * (bottom - top);
        }
    }
}
