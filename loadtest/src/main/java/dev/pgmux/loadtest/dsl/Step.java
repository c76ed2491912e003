package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One step of a {@link Scenario}. Steps that talk to Postgres are timed and recorded as requests under their
 * name; {@link Connect} is recorded as {@value #CONNECT}, so a connect-per-request scenario measures logins.
 */
public sealed interface Step {
    String CONNECT = "connect";

    /** Opens the user's connection: a pgjdbc login, or a checkout from the user's HikariCP pool. Timed. */
    record Connect() implements Step {
    }

    /** Closes the user's connection (or returns it to its HikariCP pool). Not timed. */
    record Disconnect() implements Step {
    }

    /**
     * A statement sent as it is (pgjdbc's {@code Statement.execute}); every result row is read. With
     * {@code saveAs}, the first column of the first row is kept in the session under that name.
     */
    record Query(String name, String sql, String saveAs) implements Step {
        public Query {
            requireName(name);
            Objects.requireNonNull(sql, "sql");
        }

        public Query saveAs(String attribute) {
            return new Query(name, sql, attribute);
        }
    }

    /**
     * A {@code PreparedStatement} with {@code ?} parameters computed from the session. pgjdbc switches to a
     * named server-side statement after {@code prepareThreshold} executions of the same SQL on a connection.
     */
    record Prepared(String name, String sql, List<Param> params, String saveAs) implements Step {
        public Prepared {
            requireName(name);
            Objects.requireNonNull(sql, "sql");
            params = List.copyOf(params);
        }

        public Prepared saveAs(String attribute) {
            return new Prepared(name, sql, params, attribute);
        }
    }

    /**
     * Several steps in one database transaction, timed as a whole from its first statement to its commit
     * (each statement is also recorded on its own). A failing step rolls the transaction back.
     */
    record Transaction(String name, List<Step> steps) implements Step {
        public Transaction {
            requireName(name);
            steps = List.copyOf(steps);
            for (Step s : steps) {
                if (s instanceof Connect || s instanceof Disconnect || s instanceof Transaction) {
                    throw new IllegalArgumentException("transaction \"" + name + "\" cannot contain "
                            + s.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
    }

    /** A think time, uniformly random in {@code [min, max]}. */
    record Pause(Duration min, Duration max) implements Step {
        public Pause {
            if (min.isNegative() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("pause needs 0 <= min <= max, got " + min + ", " + max);
            }
        }
    }

    /** Runs {@code steps} {@code times} times; the session's {@code counter} attribute holds the round (from 0). */
    record Repeat(int times, String counter, List<Step> steps) implements Step {
        public Repeat {
            if (times < 0) {
                throw new IllegalArgumentException("repeat needs times >= 0, got " + times);
            }
            steps = loopBody(steps);
        }
    }

    /** Runs {@code steps} again and again until {@code duration} has passed since the loop began. */
    record During(Duration duration, List<Step> steps) implements Step {
        public During {
            steps = loopBody(steps);
        }
    }

    /**
     * Runs {@code steps} again and again until the injection period ends (the run's duration), as pgbench
     * clients do. A round that has begun is finished.
     */
    record Forever(List<Step> steps) implements Step {
        public Forever {
            steps = loopBody(steps);
        }
    }

    /**
     * One of {@code choices}, drawn at random each time the step runs, with a probability proportional to its
     * weight (Gatling's {@code randomSwitch}): e.g. a mix of statements where a few dominate.
     */
    record RandomSwitch(List<Choice> choices) implements Step {
        public RandomSwitch {
            choices = List.copyOf(choices);
            if (choices.isEmpty()) {
                throw new IllegalArgumentException("a random switch needs at least one choice");
            }
        }

        /** The choice that {@code u}, uniform in [0, 1), falls on. */
        public Step pick(double u) {
            double total = 0;
            for (Choice c : choices) {
                total += c.weight();
            }
            double x = u * total;
            for (Choice c : choices) {
                x -= c.weight();
                if (x < 0) {
                    return c.step();
                }
            }
            return choices.get(choices.size() - 1).step(); // u * total rounded up to total
        }
    }

    /** A step of a {@link RandomSwitch} and its weight (any positive number; weights are relative). */
    record Choice(double weight, Step step) {
        public Choice {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("a choice needs a positive weight, got " + weight);
            }
            Objects.requireNonNull(step, "step");
        }
    }

    /** Takes the next record of a feeder into the session. */
    record Feed(Feeder feeder) implements Step {
        public Feed {
            Objects.requireNonNull(feeder, "feeder");
        }
    }

    /** A timed action of your own on the user's connection, recorded under {@code name}. */
    record Exec(String name, SqlAction action) implements Step {
        public Exec {
            requireName(name);
            Objects.requireNonNull(action, "action");
        }
    }

    /** An untimed change to the session, e.g. computing an attribute. */
    record Act(Consumer<Session> action) implements Step {
        public Act {
            Objects.requireNonNull(action, "action");
        }
    }

    private static List<Step> loopBody(List<Step> steps) {
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a loop needs at least one step");
        }
        return List.copyOf(steps);
    }

    private static void requireName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a request needs a name");
        }
    }
}
