package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.dsl.Durations;
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
import java.util.Set;

/** The options {@code run} and {@code sweep} share: what to run, the load, the checks, the output, pgmux. */
final class LoadOptions {
    /** Options that become simulation parameters, by the same name. */
    static final List<String> PARAMETERS = List.of("users", "rate", "duration", "ramp", "think-time", "scale",
            "prepare-threshold", "app-instances", "app-pool-size", "app-checkout-timeout");
    static final Set<String> VALUES = Set.of("scenario", "simulation", "classpath", "users", "rate", "duration", "ramp",
            "think-time", "warmup", "scale", "prepare-threshold", "app-instances", "app-pool-size", "app-checkout-timeout",
            "max-users", "max-duration", "assert", "out", "name", "seed", "user", "password", "pgmux-jar", "pgmux-set",
            "pgmux-java-opts");
    static final Set<String> FLAGS = Set.of("quiet", "help");

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
    final Args args;

    LoadOptions(Args args, String defaultScenario, String command) {
        this.args = args;
        String scenario = args.get("scenario");
        String simulationSpec = args.get("simulation");
        if (scenario != null && simulationSpec != null) {
            throw new UsageException("give --scenario or --simulation, not both");
        }
        if (simulationSpec != null) {
            simulation = SimulationLoader.load(simulationSpec, args.get("classpath"));
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
        Map<String, String> params = new LinkedHashMap<>();
        for (String p : PARAMETERS) {
            String v = args.get(p);
            if (v != null) {
                params.put(p, v);
            }
        }
        checkNumbers(params);
        params.putAll(args.defines());
        context = new SimulationContext(params);
        assertions = new ArrayList<>();
        assertionTexts = new ArrayList<>();
        for (String a : args.all("assert")) {
            Assertion parsed = AssertionParser.parse(a);
            assertions.add(parsed);
            assertionTexts.add(parsed.describe());
        }
        Duration warmup = duration("warmup", Duration.ZERO);
        maxDuration = args.get("max-duration") == null ? null : duration("max-duration", null);
        long seed;
        try {
            seed = Long.parseLong(args.get("seed", "1"));
        } catch (NumberFormatException e) {
            throw new UsageException("--seed needs a whole number");
        }
        runOptions = RunOptions.DEFAULTS.withWarmup(warmup).withMaxActiveUsers(args.intValue("max-users", 10_000, 1))
                .withSeed(seed);
        quiet = args.flag("quiet");
        name = args.get("name", simulationName);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        out = Path.of(args.get("out", "target/loadtest/" + command + "-" + name.replaceAll("[^A-Za-z0-9._-]+", "_") + "-" + stamp))
                .toAbsolutePath().normalize();
        user = args.get("user");
        password = args.get("password");
    }

    Duration duration(String option, Duration fallback) {
        String v = args.get(option);
        if (v == null) {
            return fallback;
        }
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + option + ": " + e.getMessage());
        }
    }

    PgmuxLauncher launcher() {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String kv : args.all("pgmux-set")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--pgmux-set needs KEY=VALUE, got " + kv);
            }
            settings.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        String javaOpts = args.get("pgmux-java-opts", "");
        List<String> opts = javaOpts.isBlank() ? List.of() : List.of(javaOpts.strip().split("\\s+"));
        try {
            return new PgmuxLauncher(PgmuxLauncher.findJar(args.get("pgmux-jar")), opts, settings);
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

    /** Early, readable errors for numbers and durations, before anything starts. */
    private static void checkNumbers(Map<String, String> params) {
        params.forEach((k, v) -> {
            switch (k) {
                case "duration", "ramp", "think-time", "app-checkout-timeout" -> {
                    try {
                        Durations.parse(v);
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("--" + k + ": " + e.getMessage());
                    }
                }
                case "rate" -> {
                    try {
                        if (!(Double.parseDouble(v) > 0)) {
                            throw new UsageException("--rate must be > 0, got " + v);
                        }
                    } catch (NumberFormatException e) {
                        throw new UsageException("--rate needs a number, got \"" + v + "\"");
                    }
                }
                default -> {
                    try {
                        int n = Integer.parseInt(v);
                        if (n < (k.equals("prepare-threshold") ? -1 : 1)) {
                            throw new UsageException("--" + k + " is too small: " + v);
                        }
                    } catch (NumberFormatException e) {
                        throw new UsageException("--" + k + " needs a whole number, got \"" + v + "\"");
                    }
                }
            }
        });
    }
}
