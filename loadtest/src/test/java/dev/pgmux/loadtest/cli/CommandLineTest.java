package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.sweep.SweepTarget;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsing of the command line, and its answers to mistakes; nothing here connects anywhere. */
class CommandLineTest {

    @Test
    void assertionExpressions() {
        Assertion a = AssertionParser.parse("p99<50ms");
        assertThat(a.scope()).isEqualTo(new Assertion.Global());
        assertThat(a.metric()).isEqualTo(Assertion.Metric.P99);
        assertThat(a.comparison()).isEqualTo(Assertion.Comparison.LT);
        assertThat(a.threshold()).isEqualTo(50);
        assertThat(AssertionParser.parse("max < 1.5s").threshold()).isEqualTo(1500);
        assertThat(AssertionParser.parse("P95<=20").metric()).isEqualTo(Assertion.Metric.P95);
        assertThat(AssertionParser.parse("errors<1%").metric()).isEqualTo(Assertion.Metric.ERROR_PERCENT);
        assertThat(AssertionParser.parse("rps>=500").comparison()).isEqualTo(Assertion.Comparison.GTE);
        assertThat(AssertionParser.parse("p99.9<100ms").metric()).isEqualTo(Assertion.Metric.P999);
        Assertion scoped = AssertionParser.parse("select account:p95<10ms");
        assertThat(scoped.scope()).isEqualTo(new Assertion.Request("select account"));
        assertThat(AssertionParser.parse("*:mean<5ms").scope()).isEqualTo(new Assertion.ForAll());
        assertThatThrownBy(() -> AssertionParser.parse("p98<5ms")).hasMessageContaining("cannot read --assert");
        assertThatThrownBy(() -> AssertionParser.parse("errors<5ms")).hasMessageContaining("ms does not go with errors");
        assertThatThrownBy(() -> AssertionParser.parse("p99<1%")).hasMessageContaining("% does not go with p99");
    }

    @Test
    void optionsFlagsAndParameters() {
        RunCommand run = parse("--url", "postgresql://u:p@127.0.0.1:1/db", "--users", "5", "--duration=10s", "--quiet",
                "-Dregion=eu", "-D", "tier=gold", "--assert", "p99<5ms", "--assert", "errors<1%", "--max-users", "50",
                "--warmup", "2s", "--pgmux-java-opts", "-Dfoo=bar -Xmx1g", "--pgmux-set", "max_clients=5000");
        LoadOptions o = new LoadOptions(run.load, "select-only", "run");
        assertThat(o.context.parameters()).containsEntry("users", "5").containsEntry("duration", "10s")
                .containsEntry("region", "eu").containsEntry("tier", "gold").hasSize(4);
        assertThat(o.quiet).isTrue();
        assertThat(o.assertionTexts).hasSize(2);
        assertThat(run.load.load.maxUsers).isEqualTo(50);
        assertThat(run.load.load.warmup).hasSeconds(2);
        assertThat(run.load.pgmux.javaOpts).isEqualTo("-Dfoo=bar -Xmx1g");
        assertThat(run.load.pgmux.settings).containsEntry("max_clients", "5000");
        // what the report shows is what was given, with the options' names
        assertThat(o.configuration()).containsEntry("--duration", "10s").containsEntry("--users", "5");

        RunCommand defaults = parse("--url", "postgresql://u:p@127.0.0.1:1/db");
        LoadOptions d = new LoadOptions(defaults.load, "select-only", "run");
        assertThat(d.context.parameters()).isEmpty();
        assertThat(d.simulationName).isEqualTo("select-only");
        assertThat(defaults.load.load.maxUsers).isEqualTo(10_000);
        assertThat(defaults.load.load.seed).isEqualTo(1);
        assertThat(d.out.toString()).contains("target/loadtest/run-select-only-");

        assertThat(main("run", "--userz", "5").err).contains("Unknown option", "'--userz'", "Possible solutions: --users");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--users").err)
                .contains("Missing required parameter for option '--users'");
        Result twice = main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--users", "1", "--users", "2");
        assertThat(twice.status).isEqualTo(Main.USAGE);
        assertThat(twice.err).contains("option '--users' should be specified only once");
        assertThat(main("run", "--url", "a", "--url", "b").err).contains("option '--url' should be specified only once");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "-D", "nokv").err).contains("'-D'", "KEY=VALUE");
    }

    @Test
    void sweepListsAndTheirDefaults() {
        SweepCommand defaults = parsed("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db");
        assertThat(defaults.poolSizes).containsExactly(2, 4, 8, 16, 32);
        assertThat(defaults.margin).isEqualTo(10);
        assertThat(defaults.targetList).isEqualTo(SweepCommand.DEFAULT_TARGETS);
        SweepCommand given = parsed("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--pool-sizes", "1, 2,4",
                "--margin", "5%", "--targets", "direct,pgmux-transaction");
        assertThat(given.poolSizes).containsExactly(1, 2, 4);
        assertThat(given.margin).isEqualTo(5);
        assertThat(given.targetList).isEqualTo("direct,pgmux-transaction");
    }

    @Test
    void helpAndVersion() {
        Result help = main("--help");
        assertThat(help.status).isZero();
        assertThat(help.out).contains("run", "sweep", "scenarios");
        Result runHelp = main("run", "--help");
        assertThat(runHelp.status).isZero();
        assertThat(runHelp.out).contains("--url", "--rate", "--assert", "--pgmux-jar");
        assertThat(main("sweep", "--help").out).contains("--pool-sizes", "--margin", "--targets");
        assertThat(main("--version").out).startsWith("pgmux-loadtest ").doesNotContain("dev");
        assertThat(main("version").out).isEqualTo(main("--version").out);
        assertThat(main("run", "--version").out).isEqualTo(main("--version").out);
        assertThat(main("help").out).contains("run", "sweep", "scenarios", "Exit status");
        assertThat(main("help", "sweep").out).contains("--pool-sizes");
        assertThat(runHelp.out).contains("What to run:", "Load (D is a duration", "Checks and output:",
                "pgmux, when this tool starts it:", "--pgmux-java-opts", "-D");
        assertThat(main("scenarios").out).contains("select-only", "tpcb", "prepared", "serverless", "app-servers");
        assertThat(main().status).isEqualTo(Main.USAGE);
    }

    @Test
    void mistakesExitWithStatusTwoAndSayWhatIsWrong() {
        Result unknown = main("bench");
        assertThat(unknown.status).isEqualTo(Main.USAGE);
        assertThat(unknown.err).contains("unknown command \"bench\"");
        assertThat(main("--bench").err).contains("Unknown option: '--bench'");
        assertThat(main("run", "--scenario", "tpcb").err).contains("give --url URL");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--pool-size", "4").err)
                .contains("--upstream and --pool-size go with --target");
        Result badScenario = main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--scenario", "nope");
        assertThat(badScenario.status).isEqualTo(Main.USAGE);
        assertThat(badScenario.err).contains("no built-in scenario \"nope\"", "select-only");
        Result badDuration = main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--duration", "soon");
        assertThat(badDuration.status).isEqualTo(Main.USAGE);
        assertThat(badDuration.err).contains("'--duration'", "not a duration: \"soon\"", "run --help lists the options");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--users", "0").err)
                .contains("'--users'", "must be at least 1, got 0");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--rate", "0").err)
                .contains("'--rate'", "must be > 0");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--seed", "x").err).contains("'--seed'");
        assertThat(main("run", "--target", "pgmux-session").err).contains("--target needs --upstream URL");
        assertThat(main("run", "--target", "pgbouncer", "--upstream", "postgresql://u:p@127.0.0.1:1/db").err)
                .contains("--target must be direct, pgmux-session or pgmux-transaction, got pgbouncer");
        assertThat(main("sweep").err).contains("Missing required option: '--upstream=URL'");
        assertThat(main("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--margin", "lots").err)
                .contains("'--margin'", "percentage");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--users", "2", "--rate", "3").err)
                .contains("not both");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--ramp", "10s", "--duration", "5s").err)
                .contains("--ramp (10s) must be shorter than --duration (5s)");
        assertThat(main("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--targets", "direct,pgbouncer").err)
                .contains("unknown target \"pgbouncer\"");
        Result badSizes = main("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--pool-sizes", "2,x");
        assertThat(badSizes.status).isEqualTo(Main.USAGE);
        assertThat(badSizes.err).contains("'--pool-sizes'", "'x'");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--simulation", "no.such.Simulation").err)
                .contains("simulation class no.such.Simulation not found");
    }

    @Test
    void anUnreachableTargetIsReportedAsUnableToRun() {
        // port 1 on the loopback: connection refused at once, during the preparation of the tables
        Result r = main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--duration", "1s", "--quiet",
                "--out", System.getProperty("java.io.tmpdir") + "/pgmux-loadtest-unreachable");
        assertThat(r.status).isEqualTo(Main.CANNOT_RUN);
        assertThat(r.err).contains("preparation on postgresql://u@127.0.0.1:1/db failed").doesNotContain(":p@");
    }

    @Test
    void sessionModeWithConnectionsHeldForTheWholeRunIsWarnedAbout() {
        List<SweepTarget> session = List.of(new SweepTarget.Pgmux(false));
        assertThat(SweepCommand.warnings(options("--scenario", "tpcb", "--users", "8"), session, List.of(2, 4, 16)))
                .singleElement().asString().contains("at pool sizes below 8");
        assertThat(SweepCommand.warnings(options("--scenario", "tpcb", "--users", "8"), List.of(new SweepTarget.Pgmux(true)), List.of(2)))
                .isEmpty();
        assertThat(SweepCommand.warnings(options("--scenario", "serverless", "--users", "8"), session, List.of(2))).isEmpty();
        assertThat(SweepCommand.warnings(options("--scenario", "app-servers", "--app-instances", "2", "--app-pool-size", "5"),
                session, List.of(4, 16))).singleElement().asString().contains("at pool sizes below 10");
    }

    private static LoadOptions options(String... args) {
        List<String> argv = new ArrayList<>(List.of("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db"));
        argv.addAll(List.of(args));
        SweepCommand sweep = parsed(argv.toArray(String[]::new));
        return new LoadOptions(sweep.load, "serverless", "sweep");
    }

    /** The run command with these arguments parsed as {@link Main} parses them, not executed. */
    private static RunCommand parse(String... args) {
        List<String> argv = new ArrayList<>(List.of("run"));
        argv.addAll(List.of(args));
        return parsed(argv.toArray(String[]::new));
    }

    private static <T> T parsed(String... args) {
        CommandLine commandLine = Main.commandLine(System.out, System.err);
        return commandLine.parseArgs(args).subcommand().commandSpec().commandLine().getCommand();
    }

    record Result(int status, String out, String err) {
    }

    static Result main(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
