package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.ClosedInjection;
import dev.pgmux.loadtest.dsl.Driver;
import dev.pgmux.loadtest.dsl.Durations;
import dev.pgmux.loadtest.dsl.Population;
import dev.pgmux.loadtest.dsl.SetupAction;
import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.stats.IntervalSnapshot;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.stats.StatsCollector;
import org.HdrHistogram.Histogram;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs a simulation against a target: preparation, then the clock starts, injectors start users on their
 * schedules, and the calling thread ticks every interval (statistics, progress) until every user is done or
 * the deadline is reached.
 */
public final class Runner {
    /** After the deadline, how long stopped users get to unwind before the run is closed without them. */
    private static final long UNWIND_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final SimulationSetup setup;
    private final Target target;
    private final RunOptions options;
    private final RunListener listener;

    public Runner(SimulationSetup setup, Target target, RunOptions options, RunListener listener) {
        this.setup = setup;
        this.target = target;
        this.options = options;
        this.listener = listener;
        validate();
    }

    /** Thrown when the run cannot start: preparation or pool filling failed. */
    public static final class StartFailure extends RuntimeException {
        public StartFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Runs the simulation.
     *
     * @param name           the run's name in reports
     * @param simulationName the simulation's name
     * @param configuration  settings to show in the report, before the runner's own
     */
    public RunResult run(String name, String simulationName, Map<String, String> configuration) {
        runSetupActions();
        Map<Driver, ConnectionSource> sources = new LinkedHashMap<>();
        List<UserGroup> groups = new ArrayList<>();
        try {
            for (Population p : setup.populations()) {
                ConnectionSource source = sources.computeIfAbsent(setup.driverOf(p), d -> ConnectionSource.create(d, target));
                groups.add(new UserGroup(p, source));
            }
            for (ConnectionSource s : sources.values()) {
                try {
                    s.prewarm();
                } catch (SQLException e) {
                    throw new StartFailure("cannot fill the HikariCP pools before the run: " + SqlErrors.key(e), e);
                }
            }
            return measure(name, simulationName, configuration, groups);
        } finally {
            sources.values().forEach(ConnectionSource::close);
        }
    }

    private RunResult measure(String name, String simulationName, Map<String, String> configuration, List<UserGroup> groups) {
        long tick = options.tick().toNanos();
        long warmup = roundUp(options.warmup().toNanos(), tick);
        Instant startedAt = Instant.now();
        long origin = System.nanoTime();
        StatsCollector stats = new StatsCollector(origin, warmup);
        RunControl control = new RunControl(stats, options.maxActiveUsers());
        long injectionNanos = setup.injectionDuration().toNanos();
        long injectionEnd = origin + injectionNanos;
        long deadline = origin + (setup.maxDuration() != null ? setup.maxDuration().toNanos()
                : injectionNanos + options.grace().toNanos());
        RunInfo info = info(name, simulationName, configuration, startedAt, injectionNanos, warmup);
        listener.started(info);

        List<Thread> injectors = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            Thread t = Thread.ofPlatform().daemon().name("injector-" + groups.get(i).population.scenario().name())
                    .unstarted(new Injector(groups.get(i), control, origin, options.seed() + i));
            injectors.add(t);
            t.start();
        }

        double planned = injectionNanos / 1e9;
        long nextTick = origin + tick;
        long unwindUntil = Long.MAX_VALUE;
        while (true) {
            long wakeAt = control.injectionEnded() ? nextTick : Math.min(nextTick, injectionEnd);
            parkUntil(wakeAt);
            long now = System.nanoTime();
            if (!control.injectionEnded() && now >= injectionEnd) {
                control.endInjection(); // forever-loops finish their round and end
            }
            if (now < nextTick) {
                continue;
            }
            boolean injectorsDone = injectors.stream().noneMatch(Thread::isAlive);
            boolean done = injectorsDone && control.active() == 0 && control.injectionEnded();
            if (!done && now >= deadline && !control.hardStopped()) {
                control.hardStop();
                unwindUntil = now + UNWIND_NANOS;
            }
            IntervalSnapshot snapshot = stats.tick(now, control.counts());
            listener.interval(snapshot, planned);
            if (done || (control.hardStopped() && (control.active() == 0 || now >= unwindUntil))) {
                break;
            }
            nextTick += tick;
        }
        double elapsed = (System.nanoTime() - origin) / 1e9;
        RunStats runStats = stats.finish();
        Histogram lag = control.startLagHistogram();
        var counts = control.counts();
        GeneratorStats generator = new GeneratorStats(counts.started(), counts.finished(), counts.dropped(),
                control.stoppedAtDeadline(), setup.populations().stream().anyMatch(p -> p.profile() instanceof Population.Open),
                lag.getTotalCount() == 0 ? 0 : lag.getValueAtPercentile(99) / 1000.0,
                lag.getTotalCount() == 0 ? 0 : lag.getMaxValue() / 1000.0);
        return new RunResult(info, runStats, AssertionChecker.check(setup.assertions(), runStats), generator, elapsed);
    }

    private RunInfo info(String name, String simulationName, Map<String, String> configuration, Instant startedAt,
                         long injectionNanos, long warmup) {
        Map<String, String> config = new LinkedHashMap<>(configuration);
        config.put("target", target.display());
        for (Population p : setup.populations()) {
            config.put("driver (" + p.scenario().name() + ")", setup.driverOf(p).describe());
        }
        config.put("injection length", Durations.format(Duration.ofNanos(injectionNanos)));
        config.put("warm-up (excluded from totals)", warmup == 0 ? "none" : Durations.format(Duration.ofNanos(warmup)));
        config.put("deadline", setup.maxDuration() != null ? Durations.format(setup.maxDuration())
                : "injection + " + Durations.format(options.grace()));
        config.put("max active users", Integer.toString(options.maxActiveUsers()));
        config.put("latency measured from", "each request's intended start (open model: the user's scheduled arrival)");
        List<String> populations = setup.populations().stream().map(Population::describe).toList();
        return new RunInfo(name, simulationName, target.display(), startedAt, injectionNanos / 1e9, warmup / 1e9,
                populations, config);
    }

    private void runSetupActions() {
        if (setup.before().isEmpty()) {
            return;
        }
        Driver driver = setup.driver() instanceof Driver.Jdbc ? setup.driver() : new Driver.Jdbc(setup.driver().properties());
        try (ConnectionSource.Direct direct = (ConnectionSource.Direct) ConnectionSource.create(driver, target);
             Connection c = direct.open(-1)) {
            for (SetupAction action : setup.before()) {
                action.run(c);
            }
        } catch (SQLException e) {
            throw new StartFailure("preparation on " + target.display() + " failed: " + SqlErrors.key(e), e);
        }
    }

    private void validate() {
        Duration injection = setup.injectionDuration();
        if (!options.warmup().isZero() && options.warmup().compareTo(injection) >= 0) {
            throw new IllegalArgumentException("the warm-up (" + Durations.format(options.warmup())
                    + ") must be shorter than the injection (" + Durations.format(injection) + ")");
        }
        for (Population p : setup.populations()) {
            if (p.profile() instanceof Population.Closed closed) {
                for (ClosedInjection step : closed.steps()) {
                    int most = switch (step) {
                        case ClosedInjection.Constant c -> c.users();
                        case ClosedInjection.Ramp r -> Math.max(r.from(), r.to());
                    };
                    if (most > options.maxActiveUsers()) {
                        throw new IllegalArgumentException(step.describe() + " needs more users than the cap of "
                                + options.maxActiveUsers() + " active users (--max-users)");
                    }
                }
            }
        }
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }

    private static void parkUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
