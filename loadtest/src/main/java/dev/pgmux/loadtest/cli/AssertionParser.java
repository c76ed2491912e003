package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --assert} expressions: {@code [REQUEST:]METRIC OP VALUE[UNIT]}. Metrics: {@code p50 p75 p95 p99 p99.9
 * min mean max} (ms; {@code s} and {@code ms} units), {@code errors} (%), {@code rps} (requests per second).
 * Without a request name the assertion is global; {@code *:} means each request on its own.
 * Examples: {@code p99<50ms}, {@code errors<1%}, {@code rps>=500}, {@code select account:p95<10ms}.
 */
final class AssertionParser {
    private static final Pattern EXPR = Pattern.compile(
            "^(?:(.+):)?\\s*(p50|p75|p95|p99|p99\\.9|p999|min|mean|max|errors|error|rps|throughput)\\s*(<=|>=|<|>)\\s*"
                    + "([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|%|rps|req/s)?\\s*$", Pattern.CASE_INSENSITIVE);

    private AssertionParser() {}

    static Assertion parse(String text) {
        Matcher m = EXPR.matcher(text.strip());
        if (!m.matches()) {
            throw new UsageException("cannot read --assert \"" + text + "\": write e.g. p99<50ms, errors<1%, rps>500,"
                    + " or REQUEST:p95<10ms");
        }
        String name = m.group(1) == null ? null : m.group(1).strip();
        Assertion.Scope scope = name == null ? new Assertion.Global() : name.equals("*") ? new Assertion.ForAll()
                : new Assertion.Request(name);
        String metricName = m.group(2).toLowerCase(Locale.ROOT);
        Assertion.Metric metric = switch (metricName) {
            case "p50" -> Assertion.Metric.P50;
            case "p75" -> Assertion.Metric.P75;
            case "p95" -> Assertion.Metric.P95;
            case "p99" -> Assertion.Metric.P99;
            case "p99.9", "p999" -> Assertion.Metric.P999;
            case "min" -> Assertion.Metric.MIN;
            case "mean" -> Assertion.Metric.MEAN;
            case "max" -> Assertion.Metric.MAX;
            case "errors", "error" -> Assertion.Metric.ERROR_PERCENT;
            default -> Assertion.Metric.REQUESTS_PER_SEC;
        };
        Assertion.Comparison op = switch (m.group(3)) {
            case "<" -> Assertion.Comparison.LT;
            case "<=" -> Assertion.Comparison.LTE;
            case ">" -> Assertion.Comparison.GT;
            default -> Assertion.Comparison.GTE;
        };
        double value = Double.parseDouble(m.group(4));
        String unit = m.group(5) == null ? null : m.group(5).toLowerCase(Locale.ROOT);
        if (unit != null) {
            boolean fits = switch (unit) {
                case "ms", "s" -> metric.isResponseTime();
                case "%" -> metric == Assertion.Metric.ERROR_PERCENT;
                default -> metric == Assertion.Metric.REQUESTS_PER_SEC;
            };
            if (!fits) {
                throw new UsageException("--assert \"" + text + "\": " + unit + " does not go with " + metricName);
            }
            if (unit.equals("s")) {
                value *= 1000;
            }
        }
        return new Assertion(scope, metric, op, value);
    }
}
