package dev.pgmux.proxy.transaction;

import java.util.LinkedHashSet;
import java.util.Set;

/** The session settings a piece of SQL may change: named parameters, or all of them (RESET ALL). */
public record SessionChanges(Set<String> names, boolean resetAll) {
    static final SessionChanges NONE = new SessionChanges(Set.of(), false);

    /** Whether running this SQL may change session settings (so pgmux must read them back afterwards). */
    public static boolean mayChange(String sql) {
        return of(sql) != NONE;
    }

    static SessionChanges of(String sql) {
        Set<String> names = null;
        boolean resetAll = false;
        for (SqlCommands.Command command : SqlCommands.analyze(sql)) {
            switch (command) {
                case SqlCommands.Command.SetParameter set -> {
                    if (names == null) {
                        names = new LinkedHashSet<>();
                    }
                    names.add(set.name());
                }
                case SqlCommands.Command.ResetAll reset -> resetAll = true;
                default -> { /* other commands leave session settings alone */ }
            }
        }
        return names == null && !resetAll ? NONE : new SessionChanges(names == null ? Set.of() : names, resetAll);
    }
}
