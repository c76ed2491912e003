package dev.pgmux.proxy.transaction;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The session settings a piece of SQL may change: named parameters, or all of them (RESET ALL).
 * {@code resets} are the names whose last change in the SQL is a RESET: on a direct connection they go
 * back to the client's startup value, not to the server's default.
 */
public record SessionChanges(Set<String> names, Set<String> resets, boolean resetAll) {
    static final SessionChanges NONE = new SessionChanges(Set.of(), Set.of(), false);

    /** Whether running this SQL may change session settings (so pgmux must read them back afterwards). */
    public static boolean mayChange(String sql) {
        return of(sql) != NONE;
    }

    static SessionChanges of(String sql) {
        Set<String> names = null;
        Set<String> resets = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        boolean resetAll = false;
        for (SqlCommands.Command command : SqlCommands.analyze(sql)) {
            switch (command) {
                case SqlCommands.Command.SetParameter set -> {
                    if (names == null) {
                        names = new LinkedHashSet<>();
                    }
                    names.add(set.name());
                    if (set.text().regionMatches(true, 0, "RESET", 0, 5)) {
                        resets.add(set.name());
                    } else {
                        resets.remove(set.name());
                    }
                }
                case SqlCommands.Command.ResetAll reset -> resetAll = true;
                default -> { /* other commands leave session settings alone */ }
            }
        }
        return names == null && !resetAll ? NONE
                : new SessionChanges(names == null ? Set.of() : names, resets, resetAll);
    }
}
