package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** A scenario with its injection profile and, optionally, a driver of its own. */
public record Population(Scenario scenario, Profile profile, Driver driver) {

    /** An injection profile: all open steps or all closed steps, never a mix (as in Gatling). */
    public sealed interface Profile {
        /** From the population's start until its last user has been started (open) or its last step ends (closed). */
        Duration duration();

        String describe();
    }

    public record Open(List<OpenInjection> steps) implements Profile {
        public Open {
            steps = List.copyOf(steps);
            if (steps.isEmpty()) {
                throw new IllegalArgumentException("injectOpen needs at least one step");
            }
        }

        @Override
        public Duration duration() {
            return steps.stream().map(OpenInjection::duration).reduce(Duration.ZERO, Duration::plus);
        }

        @Override
        public String describe() {
            return steps.stream().map(OpenInjection::describe).collect(Collectors.joining(", "));
        }
    }

    public record Closed(List<ClosedInjection> steps) implements Profile {
        public Closed {
            steps = List.copyOf(steps);
            if (steps.isEmpty()) {
                throw new IllegalArgumentException("injectClosed needs at least one step");
            }
        }

        @Override
        public Duration duration() {
            return steps.stream().map(ClosedInjection::duration).reduce(Duration.ZERO, Duration::plus);
        }

        @Override
        public String describe() {
            return steps.stream().map(ClosedInjection::describe).collect(Collectors.joining(", "));
        }
    }

    /** This population with its own driver instead of the simulation's. */
    public Population driver(Driver newDriver) {
        return new Population(scenario, profile, newDriver);
    }

    public String describe() {
        return scenario.name() + ": " + profile.describe() + (driver == null ? "" : " via " + driver.describe());
    }
}
