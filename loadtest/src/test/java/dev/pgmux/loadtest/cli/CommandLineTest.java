package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.sweep.SweepTarget;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

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
        Args a = Args.parse(List.of("--users", "5", "--duration=10s", "--quiet", "-Dregion=eu", "-D", "tier=gold",
                "--assert", "p99<5ms", "--assert", "errors<1%"), Set.of("users", "duration", "assert"), Set.of("quiet"));
        assertThat(a.get("users")).isEqualTo("5");
        assertThat(a.get("duration")).isEqualTo("10s");
        assertThat(a.flag("quiet")).isTrue();
        assertThat(a.all("assert")).containsExactly("p99<5ms", "errors<1%");
        assertThat(a.defines()).containsEntry("region", "eu").containsEntry("tier", "gold");
        assertThat(a.intValue("users", 1, 1)).isEqualTo(5);
        assertThatThrownBy(() -> Args.parse(List.of("--userz", "5"), Set.of("users"), Set.of()))
                .hasMessageContaining("unknown option --userz");
        assertThatThrownBy(() -> Args.parse(List.of("--users"), Set.of("users"), Set.of())).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Args.parse(List.of("--users", "1", "--users", "2"), Set.of("users"), Set.of()).get("users"))
                .hasMessageContaining("more than once");
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
        assertThat(main("--version").out).startsWith("pgmux-loadtest ");
        assertThat(main("scenarios").out).contains("select-only", "tpcb", "prepared", "serverless", "app-servers");
        assertThat(main().status).isEqualTo(Main.USAGE);
    }

    @Test
    void mistakesExitWithStatusTwoAndSayWhatIsWrong() {
        assertThat(main("bench").err).contains("unknown command \"bench\"");
        assertThat(main("run", "--scenario", "tpcb").err).contains("give --url URL");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--pool-size", "4").err)
                .contains("--upstream and --pool-size go with --target");
        Result badScenario = main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--scenario", "nope");
        assertThat(badScenario.status).isEqualTo(Main.USAGE);
        assertThat(badScenario.err).contains("no built-in scenario \"nope\"", "select-only");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--duration", "soon").err)
                .contains("--duration: not a duration");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--users", "2", "--rate", "3").err)
                .contains("not both");
        assertThat(main("run", "--url", "postgresql://u:p@127.0.0.1:1/db", "--ramp", "10s", "--duration", "5s").err)
                .contains("--ramp (10s) must be shorter than --duration (5s)");
        assertThat(main("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--targets", "direct,pgbouncer").err)
                .contains("unknown target \"pgbouncer\"");
        assertThat(main("sweep", "--upstream", "postgresql://u:p@127.0.0.1:1/db", "--pool-sizes", "2,x").status)
                .isEqualTo(Main.USAGE);
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
        return new LoadOptions(Args.parse(List.of(args), SweepCommand.VALUES, LoadOptions.FLAGS), "serverless", "sweep");
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
