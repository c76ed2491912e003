package dev.pgmux.loadtest.report;

import java.util.List;
import java.util.Locale;

/** An inline SVG bar chart of consecutive ranges (the response-time distribution), each bar with a tooltip. */
final class BarChart {
    record Bar(String edgeLabel, double value, String tip) {
    }

    private final int width;
    private final int height;
    private final String xLabel;
    private final String yLabel;
    private final String color;

    BarChart(int width, int height, String xLabel, String yLabel, String color) {
        this.width = width;
        this.height = height;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.color = color;
    }

    /** {@code bars} in order; {@code lastEdge} labels the right edge of the last bar. */
    String render(List<Bar> bars, String lastEdge) {
        double left = 70;
        double right = width - 28;
        double top = 24;
        double bottom = height - 46;
        double max = bars.stream().mapToDouble(Bar::value).max().orElse(1);
        Axis y = Axis.fromZero(0, max * 1.05, 5);
        StringBuilder svg = new StringBuilder(4096);
        svg.append(String.format(Locale.ROOT,
                "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">", width, height));
        for (double t : y.ticks()) {
            double py = bottom - y.fraction(t) * (bottom - top);
            svg.append(String.format(Locale.ROOT, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, py, right, py));
            svg.append(LineChart.text(left - 8, py + 4, "tick", "end", Fmt.axis(t)));
        }
        int n = Math.max(1, bars.size());
        double slot = (right - left) / n;
        int labelEvery = Math.max(1, (int) Math.ceil(n / 10.0));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double x = left + i * slot;
            double h = y.fraction(b.value) * (bottom - top);
            svg.append(String.format(Locale.ROOT,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>",
                    x + 1, bottom - h, Math.max(1, slot - 2), h, color, Html.esc(b.tip)));
            boolean clearOfLastEdge = lastEdge == null || right - x > 48;
            if (i % labelEvery == 0 && clearOfLastEdge) {
                svg.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, bottom, x, bottom + 5));
                svg.append(LineChart.text(x, bottom + 19, "tick", "middle", b.edgeLabel));
            }
        }
        if (!bars.isEmpty() && lastEdge != null) {
            svg.append(LineChart.text(right, bottom + 19, "tick", "end", lastEdge));
        }
        svg.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, bottom, right, bottom));
        svg.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, top, left, bottom));
        svg.append(String.format(Locale.ROOT, "<text class=\"axis-label\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>",
                (top + bottom) / 2, Html.esc(yLabel)));
        svg.append(LineChart.text((left + right) / 2, height - 8, "axis-label", "middle", xLabel));
        svg.append("</svg>");
        return svg.toString();
    }
}
