package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.scenarios.BuiltInScenario;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code java -jar pgmux-loadtest.jar run|sweep|scenarios|--help|--version}, parsed with picocli. */
public final class Main {
    public static final int OK = 0;
    /** An assertion failed (run), or no pool size qualified (sweep). */
    public static final int ASSERTION_FAILED = 1;
    public static final int USAGE = 2;
    /** The run could not start: the target refused the preparation, pgmux did not start, a file could not be written. */
    public static final int CANNOT_RUN = 3;

    private Main() {}

    public static void main(String[] args) {
        int status = run(List.of(args), System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /** Runs a command and returns its exit status (testable: nothing here calls System.exit). */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return commandLine(out, err).execute(args.toArray(String[]::new));
    }

    /** The commands, their options, and how mistakes are reported. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine commandLine = new CommandLine(new Root(out))
                .addSubcommand(new RunCommand(out, err))
                .addSubcommand(new SweepCommand(out, err))
                .addSubcommand(new Scenarios(out))
                .addSubcommand(new VersionCommand(out))
                .addSubcommand(new CommandLine.HelpCommand());
        commandLine.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .setUsageHelpWidth(110).setUsageHelpLongOptionsMaxWidth(28)
                // as before: an option's value is the next argument, even one that looks like an option
                // (--pgmux-java-opts -Dkey=value)
                .setAllowOptionsAsOptionParameters(true)
                .setExecutionStrategy(Main::execute)
                .setParameterExceptionHandler(Main::usageError)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof UsageException) {
                        return usageError(cmd, e.getMessage(), e);
                    }
                    throw e;
                });
        return commandLine;
    }

    @Command(name = "java -jar pgmux-loadtest.jar", mixinStandardHelpOptions = true, versionProvider = Version.class,
            synopsisSubcommandLabel = "(run | sweep | scenarios)",
            description = "Load tests for Postgres and its poolers, with real pgjdbc and HikariCP traffic.",
            commandListHeading = "%nCommands (COMMAND --help lists its options):%n",
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {
                "0:success",
                "1:an assertion failed (sweep: no pool size qualified)",
                "2:a mistake on the command line",
                "3:the run could not start"})
    static final class Root implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        private final PrintStream out;

        Root(PrintStream out) {
            this.out = out;
        }

        /** No command: the usage, and the status of a mistake. */
        @Override
        public Integer call() {
            spec.commandLine().usage(out);
            return USAGE;
        }
    }

    @Command(name = "scenarios", description = "Lists the built-in scenarios.")
    static final class Scenarios implements Callable<Integer> {
        private final PrintStream out;

        Scenarios(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() {
            for (BuiltInScenario s : BuiltInScenario.values()) {
                out.printf("%-12s %s%n", s.id(), s.description());
            }
            return OK;
        }
    }

    /** {@code version}, the same as {@code --version}. */
    @Command(name = "version", hidden = true)
    static final class VersionCommand implements Callable<Integer> {
        private final PrintStream out;

        VersionCommand(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() {
            out.println("pgmux-loadtest " + Version.get());
            return OK;
        }
    }

    /** picocli's default, after a check picocli leaves out of option groups: a single-valued option given twice. */
    private static int execute(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            for (OptionSpec option : p.matchedOptions()) {
                if (!option.isMultiValue() && option.arity().max() > 0 && p.matchedOption(option.longestName())
                        .originalStringValues().size() > 1) {
                    throw new ParameterException(p.commandSpec().commandLine(),
                            "option '" + option.longestName() + "' should be specified only once");
                }
            }
        }
        return new CommandLine.RunLast().execute(parsed);
    }

    /** A mistake found while reading the command line: said with the option it concerns; exit status 2. */
    private static int usageError(ParameterException e, String[] args) {
        String message = e.getMessage();
        if (e.getCommandLine().getParent() == null && e instanceof UnmatchedArgumentException u
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            message = "unknown command \"" + u.getUnmatched().get(0) + "\": use run, sweep or scenarios";
        }
        return usageError(e.getCommandLine(), message, e);
    }

    /** A mistake on the command line (or found in what it names): the message, a hint, exit status 2. */
    private static int usageError(CommandLine cmd, String message, Exception e) {
        PrintWriter err = cmd.getErr();
        err.println("pgmux-loadtest: " + message);
        if (e instanceof ParameterException p) {
            UnmatchedArgumentException.printSuggestions(p, err);
        }
        CommandSpec spec = cmd.getCommandSpec();
        err.println("(" + spec.qualifiedName() + " --help lists the " + (spec.parent() == null ? "commands" : "options") + ")");
        return USAGE;
    }
}
