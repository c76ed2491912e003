package dev.pgmux.proxy;

import dev.pgmux.config.TenantConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** pgmux's command line: what each invocation asks for, what it prints, and its exit status; nothing is started. */
class MainTest {
    private static final String VALID = """
            listen:
              host: 127.0.0.1
              transaction_port: 7543
              session_port: 7542
              admin_port: 7544
            default_tenant: app
            tenants:
              - id: app
                upstream: {host: 127.0.0.1, port: 5432, database: postgres}
                users: [{name: app, password: app-secret}]
              - id: reports
                upstream: {host: 127.0.0.1}
                users: [{name: reader, password: reader-secret}]
            """;

    private static final String INVALID = """
            listen:
              admin_port: 70000
            tenants:
              - id: app
                pool_size: 0
                upstream: {host: 127.0.0.1}
                users: [{name: app, password: app-secret}]
              - id: app
                upstream: {host: 127.0.0.1}
                users: []
            """;

    @TempDir
    Path dir;

    @Test
    void helpListsTheOptionsTheSubcommandAndTheExitStatuses() {
        for (String help : new String[] {"--help", "-h"}) {
            Run r = run(help);
            assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(0));
            assertThat(r.out()).contains("--config=FILE", "--upstream=URL", "--version", "check", "Exit status",
                    "2   a mistake on the command line");
            assertThat(r.err()).isEmpty();
        }
        Run check = run("check", "--help");
        assertThat(check.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(0));
        assertThat(check.out()).contains("java -jar pgmux.jar check", "--config=FILE", "--upstream=URL", "validates");
    }

    @Test
    void versionIsTheProjectsFromTheBuild() {
        Run r = run("--version");
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(0));
        // filtered by Maven from the project version: never the placeholder, nor the fallback
        assertThat(r.out().strip()).matches("pgmux \\d+\\.\\d+\\.\\d+\\S*");
    }

    @Test
    void anUnknownOptionIsAUsageErrorThatNamesIt() {
        Run r = run("--config", "x.yaml", "--port", "5");
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(2));
        assertThat(r.err()).startsWith("pgmux: Unknown option").contains("'--port'", "Usage: java -jar pgmux.jar");
        assertThat(r.out()).isEmpty();
        assertThat(run("--config").err()).contains("Missing required parameter for option '--config'");
        assertThat(run("check", "--verbose", "--config", "x.yaml").err()).contains("Unknown option: '--verbose'");
    }

    @Test
    void exactlyOneOfConfigAndUpstream() throws IOException {
        Path file = write("pgmux.yaml", VALID);
        Run both = run("--config", file.toString(), "--upstream", "postgresql://u:p@127.0.0.1/db");
        assertThat(both.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(2));
        assertThat(both.err()).contains("--config=FILE", "--upstream=URL", "mutually exclusive");
        Run neither = run();
        assertThat(neither.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(2));
        assertThat(neither.err()).contains("give exactly one of --config FILE or --upstream URL");
        Run checkNeither = run("check");
        assertThat(checkNeither.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(2));
        assertThat(checkNeither.err()).contains("Missing required argument", "--config=FILE", "--upstream=URL");
        assertThat(run("check", "--config", file.toString(), "--upstream", "postgresql://u:p@127.0.0.1/db").err())
                .contains("mutually exclusive");
    }

    @Test
    void aValidConfigurationIsServed() throws IOException {
        Path file = write("pgmux.yaml", VALID);
        Run r = run("--config", file.toString());
        assertThat(r.outcome()).isInstanceOf(PgmuxCommand.Outcome.Serve.class);
        var config = ((PgmuxCommand.Outcome.Serve) r.outcome()).config();
        assertThat(config.tenants()).extracting(TenantConfig::id).containsExactly("app", "reports");
        assertThat(config.listen().transactionPort()).isEqualTo(7543);
        assertThat(r.out() + r.err()).isEmpty();

        Run upstream = run("--upstream", "postgresql://app:secret@127.0.0.1:5433/shop");
        assertThat(upstream.outcome()).isInstanceOf(PgmuxCommand.Outcome.Serve.class);
        var single = ((PgmuxCommand.Outcome.Serve) upstream.outcome()).config();
        assertThat(single.tenants()).singleElement().satisfies(t -> assertThat(t.upstream().port()).isEqualTo(5433));
        assertThat(single.listen().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void listenHostSetsWhereAnUpstreamUrlIsServed() throws IOException {
        Run container = run("--upstream", "postgresql://app:secret@db:5432/shop", "--listen-host", "0.0.0.0");
        assertThat(container.outcome()).isInstanceOf(PgmuxCommand.Outcome.Serve.class);
        assertThat(((PgmuxCommand.Outcome.Serve) container.outcome()).config().listen().host()).isEqualTo("0.0.0.0");

        Run withFile = run("--config", write("ok.yaml", VALID).toString(), "--listen-host", "0.0.0.0");
        assertThat(withFile.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(2));
        assertThat(withFile.err()).contains("--listen-host goes with --upstream; with --config set listen.host");
    }

    @Test
    void anInvalidConfigurationIsNotServed() throws IOException {
        Path file = write("bad.yaml", INVALID);
        Run r = run("--config", file.toString());
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(1));
        assertThat(r.err()).contains("invalid configuration in " + file, "tenants[0].pool_size: must be > 0, got 0");
        Run url = run("--upstream", "postgresql://app:very-secret@127.0.0.1:5432/db?sslmode=verify-full");
        assertThat(url.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(1));
        assertThat(url.err()).startsWith("pgmux: ").doesNotContain("very-secret");
    }

    @Test
    void checkOnAValidFilePrintsASummaryAndExitsZero() throws IOException {
        Path file = write("pgmux.yaml", VALID);
        Run r = run("check", "--config", file.toString());
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(0));
        assertThat(r.out()).isEqualTo("pgmux: " + file + ": valid: 2 tenants (app, reports), default app;"
                + " 127.0.0.1 transaction port 7543, session port 7542, admin port 7544\n");
        assertThat(r.err()).isEmpty();

        Run url = run("check", "--upstream", "postgresql://app:very-secret@127.0.0.1:5432/db");
        assertThat(url.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(0));
        assertThat(url.out()).startsWith("pgmux: --upstream: valid: 1 tenant (default), default default;")
                .doesNotContain("very-secret");
    }

    @Test
    void checkOnAnInvalidFileListsEveryProblemWithItsPathAndExitsOne() throws IOException {
        Path file = write("bad.yaml", INVALID);
        Run r = run("check", "--config", file.toString());
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(1));
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("pgmux: invalid configuration in " + file + " (4 problems):\n")
                .contains("  listen.admin_port: must be a port number 0..65535, got 70000\n",
                        "  tenants[0].pool_size: must be > 0, got 0\n",
                        "  tenants[1].id: duplicate tenant id \"app\"\n",
                        "  tenants[1].users: at least one user is required (or an auth_user to look users up with auth_query)\n")
                .doesNotContain("app-secret");
    }

    @Test
    void checkOnAMissingFileSaysSoAndExitsOne() {
        Path missing = dir.resolve("missing.yaml");
        Run r = run("check", "--config", missing.toString());
        assertThat(r.outcome()).isEqualTo(new PgmuxCommand.Outcome.Exit(1));
        assertThat(r.err()).isEqualTo("pgmux: cannot read the configuration (1 problem):\n  " + missing + ": file not found\n");
        assertThat(r.out()).isEmpty();
    }

    private Path write(String name, String yaml) throws IOException {
        return Files.writeString(dir.resolve(name), yaml);
    }

    record Run(PgmuxCommand.Outcome outcome, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PgmuxCommand.Outcome outcome = PgmuxCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(outcome, out.toString(), err.toString());
    }
}
