package dev.pgmux.loadtest.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options {@code run} and {@code sweep} share (a picocli mixin), in the sections of their help: what to
 * run, the load, the checks and output, and the pgmux this tool starts. {@link LoadOptions} makes sense of them.
 */
final class LoadArgs {
    @ArgGroup(validate = false, heading = "%nWhat to run:%n", order = 10)
    What what = new What();

    @ArgGroup(validate = false, heading = "%nLoad (D is a duration: 500ms, 30s, 2m, 1m30s; a bare number is seconds):%n",
            order = 20)
    Load load = new Load();

    @ArgGroup(validate = false, heading = "%nChecks and output:%n", order = 30)
    Output output = new Output();

    @ArgGroup(validate = false, heading = "%npgmux, when this tool starts it:%n", order = 40)
    Pgmux pgmux = new Pgmux();

    static final class What {
        @Option(names = "--scenario", paramLabel = "NAME", order = 1,
                description = "select-only, tpcb, prepared, orm, serverless, app-servers (see `scenarios`)")
        String scenario;

        @Option(names = "--simulation", paramLabel = "CLASS|FILE", order = 2,
                description = "your own dev.pgmux.loadtest.dsl.Simulation: a class on --classpath, or a .java file,"
                        + " compiled on the fly")
        String simulation;

        @Option(names = "--classpath", paramLabel = "PATHS", order = 3,
                description = "jars and directories for --simulation, separated by ':'")
        String classpath;
    }

    /** Options that become simulation parameters by the same name (see {@link #parameters()}), and the run's limits. */
    static final class Load {
        @Option(names = "--users", paramLabel = "N", order = 1, converter = Values.Count.class,
                description = "closed model: N concurrent users (default 10 for persistent scenarios)")
        Integer users;

        @Option(names = "--rate", paramLabel = "R", order = 2, converter = Values.Rate.class,
                description = "open model: R new users per second (default 20 for serverless, 50 for app-servers)")
        String rate;

        @Option(names = "--duration", paramLabel = "D", order = 3, converter = Values.DurationText.class,
                description = "injection length (default 30s)")
        String duration;

        @Option(names = "--ramp", paramLabel = "D", order = 4, converter = Values.DurationText.class,
                description = "linear ramp at the start, part of --duration (default 0)")
        String ramp;

        @Option(names = "--think-time", paramLabel = "D", order = 5, converter = Values.DurationText.class,
                description = "closed model: pause after each round (default 0)")
        String thinkTime;

        @Option(names = "--warmup", paramLabel = "D", order = 6, converter = Values.DurationValue.class,
                description = "leading time left out of totals and assertions (default 0)")
        Duration warmup = Duration.ZERO;

        @Option(names = "--scale", paramLabel = "N", order = 7, converter = Values.Count.class,
                description = "N branches, 10 N tellers, 100,000 N accounts (default 1)")
        Integer scale;

        @Option(names = "--prepare-threshold", paramLabel = "N", order = 8, converter = Values.PrepareThreshold.class,
                description = "pgjdbc prepareThreshold (default pgjdbc's 5; 1 for `prepared`)")
        Integer prepareThreshold;

        @Option(names = "--app-instances", paramLabel = "N", order = 9, converter = Values.Count.class,
                description = "app-servers: application instances (default 2)")
        Integer appInstances;

        @Option(names = "--app-pool-size", paramLabel = "N", order = 10, converter = Values.Count.class,
                description = "app-servers: HikariCP pool size per instance (default 5)")
        Integer appPoolSize;

        @Option(names = "--app-checkout-timeout", paramLabel = "D", order = 11, converter = Values.DurationText.class,
                description = "app-servers: HikariCP connectionTimeout (default 30s)")
        String appCheckoutTimeout;

        @Option(names = "-D", paramLabel = "KEY=VALUE", order = 12,
                description = "a parameter for your simulation (repeatable; -DKEY=VALUE too)")
        Map<String, String> defines = new LinkedHashMap<>();

        @Option(names = "--max-users", paramLabel = "N", order = 13, converter = Values.Count.class,
                description = "open model: most users running at once; more are dropped (default 10000)")
        int maxUsers = 10_000;

        @Option(names = "--max-duration", paramLabel = "D", order = 14, converter = Values.DurationValue.class,
                description = "stop users still running this long after the start (default: injection + 30s)")
        Duration maxDuration;

        @Option(names = "--seed", paramLabel = "N", order = 15, description = "seed of randomized injection (default 1)")
        long seed = 1;

        /** The options given that are simulation parameters, by their option names, then every -D. */
        Map<String, String> parameters() {
            Map<String, String> p = new LinkedHashMap<>();
            put(p, "users", users);
            put(p, "rate", rate);
            put(p, "duration", duration);
            put(p, "ramp", ramp);
            put(p, "think-time", thinkTime);
            put(p, "scale", scale);
            put(p, "prepare-threshold", prepareThreshold);
            put(p, "app-instances", appInstances);
            put(p, "app-pool-size", appPoolSize);
            put(p, "app-checkout-timeout", appCheckoutTimeout);
            p.putAll(defines);
            return p;
        }

        private static void put(Map<String, String> p, String name, Object value) {
            if (value != null) {
                p.put(name, value.toString());
            }
        }
    }

    static final class Output {
        @Option(names = "--assert", paramLabel = "EXPR", order = 1,
                description = "repeatable: p99<50ms, p95<=20ms, max<1s, mean<5ms, errors<1%%, rps>500;"
                        + " 'REQUEST:p99<10ms' for one request, '*:p99<10ms' for each request")
        List<String> assertions = new ArrayList<>();

        @Option(names = "--out", paramLabel = "DIR", order = 2,
                description = "report directory (default target/loadtest/COMMAND-NAME-TIMESTAMP)")
        String out;

        @Option(names = "--name", paramLabel = "NAME", order = 3,
                description = "the name in the report (default: the scenario's or simulation's)")
        String name;

        @Option(names = "--quiet", order = 4, description = "no progress line per second")
        boolean quiet;

        @Option(names = "--user", paramLabel = "NAME", order = 5, description = "overrides the URL's user")
        String user;

        @Option(names = "--password", paramLabel = "PW", order = 6, description = "overrides the URL's password")
        String password;
    }

    static final class Pgmux {
        @Option(names = "--pgmux-jar", paramLabel = "FILE", order = 1,
                description = "default proxy/target/pgmux.jar here or beside this tool's build")
        String jar;

        @Option(names = "--pgmux-set", paramLabel = "KEY=VALUE", order = 2,
                description = "a tenant setting, e.g. max_clients=5000, checkout_timeout=30s (repeatable)")
        Map<String, String> settings = new LinkedHashMap<>();

        @Option(names = "--pgmux-java-opts", paramLabel = "OPTS", order = 3,
                description = "JVM options for pgmux, e.g. '-Xmx1g'")
        String javaOpts = "";
    }
}
