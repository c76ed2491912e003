package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.dsl.Simulation;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.engine.RunOptions;
import dev.pgmux.loadtest.scenarios.BuiltInScenario;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the options {@code run} and {@code sweep} share ({@link LoadArgs}) mean: the simulation, its parameters, checks, output, pgmux. */
final class LoadOptions {
    final Simulation simulation;
    final String simulationName;
    /** The built-in scenario, or null for a simulation of your own. */
    final BuiltInScenario builtIn;
    final SimulationContext context;
    final List<Assertion> assertions;
    final List<String> assertionTexts;
    final RunOptions runOptions;
    final Duration maxDuration;
    final boolean quiet;
    final String name;
    final Path out;
    final String user;
    final String password;
    private final LoadArgs.Pgmux pgmux;

    LoadOptions(LoadArgs args, String defaultScenario, String command) {
        String scenario = args.what.scenario;
        String simulationSpec = args.what.simulation;
        if (scenario != null && simulationSpec != null) {
            throw new UsageException("give --scenario or --simulation, not both");
        }
        if (simulationSpec != null) {
            simulation = SimulationLoader.load(simulationSpec, args.what.classpath);
            simulationName = simulation.name();
            builtIn = null;
        } else {
            try {
                builtIn = BuiltInScenario.byId(scenario != null ? scenario : defaultScenario);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            simulation = builtIn.simulation();
            simulationName = builtIn.id();
        }
        context = new SimulationContext(args.load.parameters());
        assertions = new ArrayList<>();
        assertionTexts = new ArrayList<>();
        for (String a : args.output.assertions) {
            Assertion parsed = AssertionParser.parse(a);
            assertions.add(parsed);
            assertionTexts.add(parsed.describe());
        }
        maxDuration = args.load.maxDuration;
        runOptions = RunOptions.DEFAULTS.withWarmup(args.load.warmup).withMaxActiveUsers(args.load.maxUsers)
                .withSeed(args.load.seed);
        quiet = args.output.quiet;
        name = args.output.name != null ? args.output.name : simulationName;
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        String dir = args.output.out != null ? args.output.out
                : "target/loadtest/" + command + "-" + name.replaceAll("[^A-Za-z0-9._-]+", "_") + "-" + stamp;
        out = Path.of(dir).toAbsolutePath().normalize();
        user = args.output.user;
        password = args.output.password;
        pgmux = args.pgmux;
    }

    PgmuxLauncher launcher() {
        Map<String, String> settings = new LinkedHashMap<>();
        pgmux.settings.forEach((k, v) -> {
            if (k.isBlank()) {
                throw new UsageException("--pgmux-set needs KEY=VALUE, got =" + v);
            }
            settings.put(k.strip(), v.strip());
        });
        List<String> opts = pgmux.javaOpts.isBlank() ? List.of() : List.of(pgmux.javaOpts.strip().split("\\s+"));
        try {
            return new PgmuxLauncher(PgmuxLauncher.findJar(pgmux.jar), opts, settings);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Settings shown in the report's configuration table. */
    Map<String, String> configuration() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(builtIn != null ? "scenario" : "simulation class", builtIn != null
                ? builtIn.id() + ": " + builtIn.description() : simulation.getClass().getName());
        context.sorted().forEach((k, v) -> c.put("--" + k, v));
        return c;
    }
}
