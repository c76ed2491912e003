package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.scenarios.BuiltInScenario;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code java -jar pgmux-loadtest.jar run|sweep|scenarios|--help|--version}. */
public final class Main {
    public static final int OK = 0;
    /** An assertion failed (run), or no pool size qualified (sweep). */
    public static final int ASSERTION_FAILED = 1;
    public static final int USAGE = 2;
    /** The run could not start: the target refused the preparation, pgmux did not start, a file could not be written. */
    public static final int CANNOT_RUN = 3;

    private Main() {}

    public static void main(String[] args) {
        int status = run(Arrays.asList(args), System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /** Runs a command and returns its exit status (testable: nothing here calls System.exit). */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || List.of("--help", "-h", "help").contains(args.get(0))) {
            out.print(Usage.MAIN);
            return args.isEmpty() ? USAGE : OK;
        }
        List<String> rest = args.subList(1, args.size());
        try {
            return switch (args.get(0)) {
                case "run" -> RunCommand.execute(rest, out, err);
                case "sweep" -> SweepCommand.execute(rest, out, err);
                case "scenarios" -> {
                    for (BuiltInScenario s : BuiltInScenario.values()) {
                        out.printf("%-12s %s%n", s.id(), s.description());
                    }
                    yield OK;
                }
                case "--version", "version" -> {
                    out.println("pgmux-loadtest " + Version.get());
                    yield OK;
                }
                default -> throw new UsageException("unknown command \"" + args.get(0) + "\": use run, sweep or scenarios");
            };
        } catch (UsageException e) {
            err.println("pgmux-loadtest: " + e.getMessage());
            err.println("(java -jar pgmux-loadtest.jar " + (args.get(0).equals("sweep") ? "sweep" : "run") + " --help lists the options)");
            return USAGE;
        }
    }
}
