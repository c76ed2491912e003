package dev.pgmux.proxy.model;

import dev.pgmux.proxy.model.Program.Batch;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A message sequence that crashes Postgres 15.18 itself (signal 11, every backend restarted), found by the
 * model test on a direct connection, no pgmux involved:
 * <pre>
 *   Parse("s2", "SELECT 'x'"), Sync
 *   Query("BEGIN")
 *   Query("DEALLOCATE q")                           -- fails: the transaction is aborted
 *   Parse("s2", "SELECT generate_series(1,3)"), Sync -- 25P02
 *   Execute("", maxRows 1), Sync                     -- segfault
 * </pre>
 * The Execute finds the unnamed portal the failed simple query left behind in the aborted transaction, and
 * the backend dies reading it (a read of address 8; most likely the portal's statement list lived in
 * memory the Parse in between reused: without that Parse, or with a new name, it does not crash). That is Postgres' bug,
 * not pgmux's, and it would take the shared test server down with every test using it. So programs never
 * use, inside a transaction block, a portal they did not bind earlier in the same unit (Sync to Sync), and
 * shrinking never produces such a program.
 */
final class PostgresHazard {
    private PostgresHazard() {
    }

    static boolean present(Program program) {
        return !avoided(program).equals(program);
    }

    /** {@code program} without the portal uses {@link #present} refuses. */
    static Program avoided(Program program) {
        List<Batch> batches = new ArrayList<>();
        boolean inBlock = false;
        Set<String> boundInUnit = new HashSet<>();
        for (Batch batch : program.batches()) {
            List<Op> ops = new ArrayList<>();
            for (Op op : batch.ops()) {
                String portal = switch (op) {
                    case Op.Execute e -> e.portal();
                    case Op.Describe d when d.kind() == 'P' -> d.name();
                    case Op.Close c when c.kind() == 'P' -> c.name();
                    default -> null;
                };
                if (portal != null && inBlock && !boundInUnit.contains(portal)) {
                    continue;
                }
                ops.add(op);
                switch (op) {
                    case Op.Bind b -> boundInUnit.add(b.portal());
                    case Op.Sync ignored -> boundInUnit.clear();
                    case Op.Query q -> {
                        boundInUnit.clear();
                        if (q.sql().equals("BEGIN")) {
                            inBlock = true;
                        } else if (q.sql().equals("COMMIT") || q.sql().equals("ROLLBACK")) {
                            inBlock = false;
                        }
                    }
                    default -> { }
                }
            }
            batches.add(new Batch(List.copyOf(ops), batch.switchServer()));
        }
        return new Program(program.seed(), List.copyOf(batches));
    }
}
