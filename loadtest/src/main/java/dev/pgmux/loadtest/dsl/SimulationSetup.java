package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A complete simulation: populations, assertions, the default driver, preparation steps and an optional
 * maximum duration. Immutable; each method returns a changed copy.
 *
 * @param maxDuration null: users still running when the injection has ended get a grace period (set by the
 *                    runner) and are then stopped; otherwise they are stopped this long after the start
 */
public record SimulationSetup(List<Population> populations, List<Assertion> assertions, Driver driver,
                              List<SetupAction> before, Duration maxDuration) {

    public SimulationSetup {
        populations = List.copyOf(populations);
        assertions = List.copyOf(assertions);
        before = List.copyOf(before);
        Objects.requireNonNull(driver, "driver");
        if (populations.isEmpty()) {
            throw new IllegalArgumentException("a simulation needs at least one population");
        }
        long names = populations.stream().map(p -> p.scenario().name()).distinct().count();
        if (names != populations.size()) {
            throw new IllegalArgumentException("scenario names must differ between populations");
        }
    }

    public static SimulationSetup of(Population... populations) {
        return new SimulationSetup(List.of(populations), List.of(), new Driver.Jdbc(java.util.Map.of()), List.of(), null);
    }

    public SimulationSetup assertions(Assertion... more) {
        List<Assertion> all = new ArrayList<>(assertions);
        all.addAll(Arrays.asList(more));
        return new SimulationSetup(populations, all, driver, before, maxDuration);
    }

    public SimulationSetup assertions(List<Assertion> more) {
        return assertions(more.toArray(Assertion[]::new));
    }

    public SimulationSetup driver(Driver newDriver) {
        return new SimulationSetup(populations, assertions, newDriver, before, maxDuration);
    }

    /** Runs {@code action} on one connection before the clock starts. */
    public SimulationSetup before(SetupAction action) {
        List<SetupAction> all = new ArrayList<>(before);
        all.add(action);
        return new SimulationSetup(populations, assertions, driver, all, maxDuration);
    }

    public SimulationSetup maxDuration(Duration d) {
        return new SimulationSetup(populations, assertions, driver, before, d);
    }

    /** Until the last population's injection ends. */
    public Duration injectionDuration() {
        return populations.stream().map(p -> p.profile().duration()).max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /** The driver a population uses: its own, else the simulation's. */
    public Driver driverOf(Population p) {
        return p.driver() != null ? p.driver() : driver;
    }
}
