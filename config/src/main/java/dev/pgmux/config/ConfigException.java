package dev.pgmux.config;

import java.util.List;

/**
 * A configuration that cannot be used. It carries every problem found, each as
 * {@code path: problem} (for example {@code tenants[0].pool_size: must be > 0, got 0}), so that
 * one run shows a user all there is to fix. No message ever contains a secret.
 */
public final class ConfigException extends RuntimeException {

    private final String summary;
    private final List<String> problems;

    /**
     * @param summary  what could not be done, e.g. {@code invalid configuration in pgmux.yaml}
     * @param problems each as {@code path: problem}; at least one
     */
    public ConfigException(String summary, List<String> problems) {
        super(message(summary, problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.summary = summary;
        this.problems = List.copyOf(problems);
    }

    public ConfigException(List<String> problems) {
        this("invalid configuration", problems);
    }

    /** What could not be done, without the problems: {@code invalid configuration in pgmux.yaml}. */
    public String summary() {
        return summary;
    }

    /** Every problem found, each as {@code path: problem}, in the order found. */
    public List<String> problems() {
        return problems;
    }

    private static String message(String summary, List<String> problems) {
        StringBuilder sb = new StringBuilder(summary);
        sb.append(problems.size() == 1 ? " (1 problem):" : " (" + problems.size() + " problems):");
        for (String problem : problems) {
            sb.append("\n  ").append(problem);
        }
        return sb.toString();
    }
}
