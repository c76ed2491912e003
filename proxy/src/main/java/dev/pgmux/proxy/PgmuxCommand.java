package dev.pgmux.proxy;

import dev.pgmux.config.ConfigException;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamUrl;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * pgmux's command line (picocli): {@code --config FILE} or {@code --upstream URL} to serve, {@code check} to
 * validate a configuration and exit, {@code --help}, {@code --version}. Nothing here starts a server or exits
 * the JVM: {@link #execute} returns what to do, and {@link Main} does it.
 */
@Command(name = "java -jar pgmux.jar", mixinStandardHelpOptions = true, versionProvider = PgmuxCommand.Version.class,
        subcommands = PgmuxCommand.Check.class, sortOptions = false,
        description = "A Postgres connection pooler: serves the tenants of a YAML configuration (docs/configuration.md),"
                + " or one tenant in front of one Postgres.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:stopped (or help, version, a valid configuration checked)",
            "1:invalid configuration, or pgmux could not start",
            "2:a mistake on the command line"})
final class PgmuxCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int INVALID_CONFIGURATION = 1;
    /** A valid configuration pgmux could not serve (a port in use, an unreadable certificate). */
    static final int CANNOT_START = 1;
    static final int USAGE = 2;

    /** What the command line asks for. */
    sealed interface Outcome {
        /** Serve this configuration until stopped; {@code file} is re-read on reload (null: --upstream). */
        record Serve(PgmuxConfig config, Path file) implements Outcome {
        }

        /** Nothing to serve: exit with this status (help, version, check, or a mistake already reported). */
        record Exit(int status) implements Outcome {
        }
    }

    @ArgGroup(multiplicity = "0..1")
    Source source;

    @Option(names = "--listen-host", paramLabel = "HOST",
            description = {"with --upstream: the address to listen on (default 127.0.0.1;", "0.0.0.0 in a container)"})
    String listenHost;

    @Spec
    CommandSpec spec;

    private PgmuxConfig toServe;

    /** Parses {@code args}, reports on {@code out} and {@code err}, and says what to do next. */
    static Outcome execute(String[] args, PrintWriter out, PrintWriter err) {
        PgmuxCommand root = new PgmuxCommand();
        CommandLine commandLine = new CommandLine(root).setOut(out).setErr(err)
                .setParameterExceptionHandler(PgmuxCommand::usageError);
        int status = commandLine.execute(args);
        out.flush();
        err.flush();
        return status == OK && root.toServe != null ? new Outcome.Serve(root.toServe, root.source.file) : new Outcome.Exit(status);
    }

    @Override
    public Integer call() {
        if (source == null) {
            throw new ParameterException(spec.commandLine(), "give exactly one of --config FILE or --upstream URL");
        }
        if (listenHost != null && source.file != null) {
            throw new ParameterException(spec.commandLine(), "--listen-host goes with --upstream; with --config set listen.host");
        }
        if (listenHost != null && listenHost.isBlank()) {
            throw new ParameterException(spec.commandLine(), "--listen-host must not be empty");
        }
        try {
            PgmuxConfig config = source.load();
            toServe = listenHost == null ? config : config.withListen(config.listen().withHost(listenHost.trim()));
            return OK;
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("pgmux: " + e.getMessage());
            return INVALID_CONFIGURATION;
        }
    }

    /** Where the configuration comes from: exactly one of the two. */
    static final class Source {
        @Option(names = "--config", paramLabel = "FILE", required = true,
                description = "the YAML configuration (docs/configuration.md)")
        Path file;

        @Option(names = "--upstream", paramLabel = "URL", required = true,
                description = {"one tenant in front of this Postgres,", "postgresql://USER:PASSWORD@HOST:PORT/DB;",
                    "clients log in with the same user and password"})
        String upstream;

        /** @throws ConfigException listing every problem, each with its path; never with a password */
        PgmuxConfig load() {
            return file != null ? ConfigLoader.load(file) : UpstreamUrl.toConfig(upstream);
        }

        /** The file's name, or just {@code --upstream}: the URL holds a password. */
        String describe() {
            return file != null ? file.toString() : "--upstream";
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, versionProvider = PgmuxCommand.Version.class, sortOptions = false,
            description = {"Loads and validates a configuration, as pgmux does at start, prints a one-line summary"
                    + " and exits; opens no port and connects nowhere.",
                "An invalid configuration is reported with every problem, each with the path of its setting."},
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:the configuration is valid", "1:it is not (the problems are on stderr)",
                "2:a mistake on the command line"})
    static final class Check implements Callable<Integer> {
        @ArgGroup(multiplicity = "1")
        Source source;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try {
                PgmuxConfig config = source.load();
                spec.commandLine().getOut().println("pgmux: " + source.describe() + ": valid: " + summary(config));
                return OK;
            } catch (ConfigException e) {
                spec.commandLine().getErr().println("pgmux: " + e.getMessage());
                return INVALID_CONFIGURATION;
            }
        }
    }

    /** Tenants and listeners, e.g. {@code 2 tenants (a, b); 127.0.0.1 transaction port 6543, session port 6542, admin port 6544}. */
    static String summary(PgmuxConfig config) {
        ListenConfig l = config.listen();
        int n = config.tenants().size();
        String tenants = config.tenants().stream().map(TenantConfig::id).collect(Collectors.joining(", "));
        return n + (n == 1 ? " tenant (" : " tenants (") + tenants + ")"
                + config.defaultTenant().map(t -> ", default " + t).orElse("")
                + "; " + l.host() + " transaction port " + l.transactionPort() + ", session port " + l.sessionPort()
                + ", admin port " + l.adminPort();
    }

    /** A mistake on the command line: what is wrong, naming the option, then the usage; exit status 2. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        PrintWriter err = commandLine.getErr();
        err.println("pgmux: " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        commandLine.usage(err);
        return USAGE;
    }

    /** The project version, from a resource Maven fills in; {@code dev} when run from an unfiltered build. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgmux " + get()};
        }

        static String get() {
            return PgmuxVersion.get();
        }
    }
}
