package dev.pgmux.proxy.transaction;

import dev.pgmux.proxy.prepared.StatementCache;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a piece of SQL may change in the server session beyond its own transaction: settings (named
 * parameters, or all of them with RESET ALL) and, with a SQL-level {@code PREPARE} or {@code DEALLOCATE} of
 * a name in pgmux's namespace ({@link StatementCache#isServerName}), the statements pgmux keeps on the
 * server for every client. {@code resets} are the names whose last change in the SQL is a RESET: on a
 * direct connection they go back to the client's startup value, not to the server's default.
 */
public record SessionChanges(Set<String> names, Set<String> resets, boolean resetAll, boolean serverStatements) {
    static final SessionChanges NONE = new SessionChanges(Set.of(), Set.of(), false, false);

    /** Whether running this SQL may change the session (so pgmux must look at it when it runs). */
    public static boolean mayChange(String sql) {
        return of(sql) != NONE;
    }

    static SessionChanges of(String sql) {
        return of(SqlCommands.analyze(sql));
    }

    static SessionChanges of(List<SqlCommands.Command> commands) {
        Set<String> names = null;
        Set<String> resets = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        boolean resetAll = false;
        boolean serverStatements = false;
        for (SqlCommands.Command command : commands) {
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
                // (DEALLOCATE ALL is left out: pgmux sees its CommandComplete and forgets the server's statements.)
                case SqlCommands.Command.Prepare prepare -> serverStatements |= StatementCache.isServerName(prepare.name());
                case SqlCommands.Command.Deallocate deallocate -> serverStatements |= StatementCache.isServerName(deallocate.name());
                default -> { /* other commands leave the session alone */ }
            }
        }
        return names == null && !resetAll && !serverStatements ? NONE
                : new SessionChanges(names == null ? Set.of() : names, resets, resetAll, serverStatements);
    }
}
