package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The load-test DSL in one place, to import statically: {@code import static dev.pgmux.loadtest.dsl.Dsl.*;}.
 * Names follow Gatling where Gatling has the same idea.
 */
public final class Dsl {
    private Dsl() {}

    // ---- scenarios and steps ----

    public static Scenario scenario(String name) {
        return new Scenario(name, List.of());
    }

    public static Step connect() {
        return new Step.Connect();
    }

    public static Step disconnect() {
        return new Step.Disconnect();
    }

    public static Step.Query query(String name, String sql) {
        return new Step.Query(name, sql, null);
    }

    public static Step.Prepared prepared(String name, String sql, Param... params) {
        return new Step.Prepared(name, sql, Arrays.asList(params), null);
    }

    public static Step transaction(String name, Step... steps) {
        return new Step.Transaction(name, Arrays.asList(steps));
    }

    public static Step pause(Duration duration) {
        return new Step.Pause(duration, duration);
    }

    public static Step pause(Duration min, Duration max) {
        return new Step.Pause(min, max);
    }

    public static Step feed(Feeder feeder) {
        return new Step.Feed(feeder);
    }

    public static Step repeat(int times, Step... steps) {
        return new Step.Repeat(times, null, Arrays.asList(steps));
    }

    public static Step repeat(int times, String counter, Step... steps) {
        return new Step.Repeat(times, counter, Arrays.asList(steps));
    }

    public static Step during(Duration duration, Step... steps) {
        return new Step.During(duration, Arrays.asList(steps));
    }

    public static Step forever(Step... steps) {
        return new Step.Forever(Arrays.asList(steps));
    }

    /** One of the choices per execution, drawn with probabilities proportional to their weights. */
    public static Step randomSwitch(Step.Choice... choices) {
        return new Step.RandomSwitch(Arrays.asList(choices));
    }

    public static Step randomSwitch(List<Step.Choice> choices) {
        return new Step.RandomSwitch(choices);
    }

    /** A choice of {@link #randomSwitch}: {@code step} with a relative {@code weight}. */
    public static Step.Choice choice(double weight, Step step) {
        return new Step.Choice(weight, step);
    }

    public static Step exec(String name, SqlAction action) {
        return new Step.Exec(name, action);
    }

    public static Step exec(java.util.function.Consumer<Session> action) {
        return new Step.Act(action);
    }

    // ---- statement parameters ----

    /** The value of a session attribute (from a feeder, {@code saveAs} or an {@code exec}). */
    public static Param attr(String name) {
        return session -> session.get(name);
    }

    /** A constant. */
    public static Param value(Object constant) {
        return session -> constant;
    }

    // ---- injection ----

    public static OpenInjection.AtOnce atOnceUsers(int users) {
        return new OpenInjection.AtOnce(users);
    }

    public static OpenInjection.RampBuilder rampUsers(int users) {
        return new OpenInjection.RampBuilder(users);
    }

    public static OpenInjection.ConstantRateBuilder constantUsersPerSec(double rate) {
        return new OpenInjection.ConstantRateBuilder(rate);
    }

    public static OpenInjection.RampRateBuilder rampUsersPerSec(double from) {
        return new OpenInjection.RampRateBuilder(from, from);
    }

    public static OpenInjection.NothingFor nothingFor(Duration duration) {
        return new OpenInjection.NothingFor(duration);
    }

    public static ClosedInjection.ConstantBuilder constantConcurrentUsers(int users) {
        return new ClosedInjection.ConstantBuilder(users);
    }

    public static ClosedInjection.RampBuilder rampConcurrentUsers(int from) {
        return new ClosedInjection.RampBuilder(from, from);
    }

    // ---- drivers ----

    public static Driver.Jdbc jdbc() {
        return new Driver.Jdbc(Map.of());
    }

    public static Driver.Hikari hikari(int instances, int poolSize) {
        return new Driver.Hikari(instances, poolSize, Duration.ofSeconds(30), Map.of());
    }

    // ---- simulation and assertions ----

    public static SimulationSetup setUp(Population... populations) {
        return SimulationSetup.of(populations);
    }

    public static Assertion.ScopeBuilder global() {
        return new Assertion.ScopeBuilder(new Assertion.Global());
    }

    /** Assertions on the requests named {@code requestName}. */
    public static Assertion.ScopeBuilder details(String requestName) {
        return new Assertion.ScopeBuilder(new Assertion.Request(requestName));
    }

    /** Assertions that every request name must meet on its own. */
    public static Assertion.ScopeBuilder forAll() {
        return new Assertion.ScopeBuilder(new Assertion.ForAll());
    }
}
