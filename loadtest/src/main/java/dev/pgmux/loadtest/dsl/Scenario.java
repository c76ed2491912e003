package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What one virtual user does, start to end: an immutable list of steps. Every method returns a new scenario
 * with the step appended, so a scenario can be a base for others.
 */
public final class Scenario {
    private final String name;
    private final List<Step> steps;

    Scenario(String name, List<Step> steps) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a scenario needs a name");
        }
        this.name = name;
        this.steps = List.copyOf(steps);
    }

    public String name() {
        return name;
    }

    public List<Step> steps() {
        return steps;
    }

    public Scenario exec(Step... more) {
        List<Step> all = new ArrayList<>(steps);
        all.addAll(Arrays.asList(more));
        return new Scenario(name, all);
    }

    public Scenario connect() {
        return exec(new Step.Connect());
    }

    public Scenario disconnect() {
        return exec(new Step.Disconnect());
    }

    public Scenario query(String requestName, String sql) {
        return exec(Dsl.query(requestName, sql));
    }

    public Scenario prepared(String requestName, String sql, Param... params) {
        return exec(Dsl.prepared(requestName, sql, params));
    }

    public Scenario transaction(String requestName, Step... inner) {
        return exec(Dsl.transaction(requestName, inner));
    }

    public Scenario pause(Duration duration) {
        return exec(Dsl.pause(duration));
    }

    public Scenario pause(Duration min, Duration max) {
        return exec(Dsl.pause(min, max));
    }

    public Scenario feed(Feeder feeder) {
        return exec(new Step.Feed(feeder));
    }

    public Scenario repeat(int times, Step... inner) {
        return exec(Dsl.repeat(times, inner));
    }

    public Scenario during(Duration duration, Step... inner) {
        return exec(Dsl.during(duration, inner));
    }

    public Scenario forever(Step... inner) {
        return exec(Dsl.forever(inner));
    }

    /** An open-model population of this scenario: users arrive on the given schedule. */
    public Population injectOpen(OpenInjection... injection) {
        return new Population(this, new Population.Open(List.of(injection)), null);
    }

    /** A closed-model population of this scenario: the given numbers of users are kept running. */
    public Population injectClosed(ClosedInjection... injection) {
        return new Population(this, new Population.Closed(List.of(injection)), null);
    }

    @Override
    public String toString() {
        return "Scenario[" + name + ", " + steps.size() + " steps]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scenario s && s.name.equals(name) && s.steps.equals(steps);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, steps);
    }
}
