package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The parameters a simulation is run with: the command line's {@code --users}, {@code --rate},
 * {@code --duration}, ... and every {@code -Dkey=value}, by name (without the dashes).
 */
public record SimulationContext(Map<String, String> parameters) {
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(30);

    public SimulationContext {
        parameters = Map.copyOf(parameters);
    }

    public static SimulationContext empty() {
        return new SimulationContext(Map.of());
    }

    public Optional<String> param(String name) {
        return Optional.ofNullable(parameters.get(name));
    }

    public String param(String name, String fallback) {
        return parameters.getOrDefault(name, fallback);
    }

    public int intParam(String name, int fallback) {
        return param(name).map(v -> parse(name, v, Integer::parseInt)).orElse(fallback);
    }

    public double doubleParam(String name, double fallback) {
        return param(name).map(v -> parse(name, v, Double::parseDouble)).orElse(fallback);
    }

    public Duration durationParam(String name, Duration fallback) {
        return param(name).map(v -> parse(name, v, Durations::parse)).orElse(fallback);
    }

    /** {@code --duration}, 30 s when not given. */
    public Duration duration() {
        return durationParam("duration", DEFAULT_DURATION);
    }

    /** Parameters sorted by name, for reports. */
    public Map<String, String> sorted() {
        return new TreeMap<>(parameters);
    }

    private static <T> T parse(String name, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value.strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("parameter " + name + ": cannot read \"" + value + "\"", e);
        }
    }
}
