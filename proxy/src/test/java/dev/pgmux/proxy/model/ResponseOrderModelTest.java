package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.model.ProgramGenerator.Feature;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Model-based test of pgmux's response bookkeeping in transaction mode: seeded random programs of Parse,
 * Bind, Describe, Execute, Close, Sync, Flush and simple queries (with errors in the middle of batches) run
 * on a direct Postgres connection and through pgmux's transaction port, where consecutive batches land on
 * different servers. The client must see exactly what the direct server sends.
 *
 * <p>Each sweep runs programs until its count or time budget is spent, keeps one example of every distinct
 * difference (shrunk to a small program where placement is reproducible) and fails with all of them.
 *
 * <p>Knobs (system properties): {@code pgmux.model.seed} (first seed), {@code pgmux.model.programs} (per
 * sweep), {@code pgmux.model.budgetSeconds} (per sweep), {@code pgmux.model.exclude} (comma-separated
 * {@link Feature}s to leave out, to look past a known difference), {@code pgmux.model.keepGoing=false}
 * (stop a sweep at its first difference), {@code pgmux.model.verbose} (print every shrinking trial).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ResponseOrderModelTest {
    private static final long FIRST_SEED = Long.getLong("pgmux.model.seed", 20_261_121L);
    private static final int PROGRAMS = Integer.getInteger("pgmux.model.programs", 150);
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Integer.getInteger("pgmux.model.budgetSeconds", 15));
    private static final Set<Feature> EXCLUDED = Feature.parse(System.getProperty("pgmux.model.exclude"));
    private static final boolean KEEP_GOING = Boolean.parseBoolean(System.getProperty("pgmux.model.keepGoing", "true"));
    /** Shrinking trials per distinct difference. */
    private static final int SHRINK_TRIALS = 250;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(ModelSupport.twoServers());

    /** The placement the tests below rely on: a switch moves the client to the other server, no switch keeps it. */
    @Test
    void controlledPlacementAlternatesServers() throws IOException {
        try (Placement placement = new Placement.Controlled(pgmux.get());
             WireClient client = Placement.pgmuxClient(pgmux.get(), "probe", Duration.ofSeconds(5))) {
            List<String> pids = new ArrayList<>();
            boolean[] switches = {false, false, true, false, true, true};
            for (boolean switchServer : switches) {
                placement.beforeBatch(switchServer);
                pids.add(client.query("SELECT pg_backend_pid()").stream()
                        .filter(m -> m.tag() == 'D').findFirst().orElseThrow().values().get(0));
            }
            assertEquals(pids.get(0), pids.get(1), "no switch: same server " + pids);
            assertNotEquals(pids.get(1), pids.get(2), "switch: other server " + pids);
            assertEquals(pids.get(2), pids.get(3), "no switch: same server " + pids);
            assertNotEquals(pids.get(3), pids.get(4), "switch: other server " + pids);
            assertNotEquals(pids.get(4), pids.get(5), "switch: other server " + pids);
            assertEquals(pids.get(0), pids.get(4), "two servers only " + pids);
        }
    }

    /** Reproducible: the seed alone fixes the program and which server each batch runs on. */
    @Test
    void randomProgramsWithControlledPlacement() throws IOException {
        controlledSweep(pgmux.get(), "controlled", FIRST_SEED);
    }

    /**
     * The same with room for only two statements per server, so that pgmux evicts (closes) statements
     * in the middle of batches and prepares them again later.
     */
    @Test
    void randomProgramsWithEvictions() throws IOException {
        try (PgmuxHarness small = PgmuxHarness.start(ModelSupport.twoServers(
                tenant -> tenant.withPreparedStatements(tenant.preparedStatements().withMaxPerServer(2))))) {
            controlledSweep(small, "controlled, 2 statements per server", FIRST_SEED + 2_000_000);
        }
    }

    /**
     * With {@code cache_unnamed_statements} on: programs that also bind and describe the unnamed statement in
     * later units than the one that parsed it (so on the other server, often), and parse one text with
     * different parameter types.
     */
    @Test
    void randomProgramsWithTheUnnamedStatementAcrossUnits() throws IOException {
        try (PgmuxHarness cached = PgmuxHarness.start(ModelSupport.twoServers(
                tenant -> tenant.withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true))))) {
            controlledSweep(cached, "controlled, unnamed statement across units", FIRST_SEED + 3_000_000,
                    EnumSet.of(Feature.UNNAMED_ACROSS_UNITS, Feature.PARAM_TYPES));
        }
        // The sweep is only worth its name if its programs do what it says.
        int acrossUnits = 0;
        for (long seed = FIRST_SEED + 3_000_000; seed < FIRST_SEED + 3_000_050; seed++) {
            acrossUnits += unnamedUsesAcrossUnits(ProgramGenerator.generate(seed, EXCLUDED,
                    EnumSet.of(Feature.UNNAMED_ACROSS_UNITS, Feature.PARAM_TYPES)));
        }
        assertTrue(acrossUnits >= 20, "Bind or Describe of the unnamed statement in a unit that did not parse it, "
                + "in the first 50 programs: " + acrossUnits);
    }

    /** The same with room for only two statements per server: shared statements evicted mid-batch. */
    @Test
    void randomProgramsWithTheUnnamedStatementAcrossUnitsAndEvictions() throws IOException {
        try (PgmuxHarness small = PgmuxHarness.start(ModelSupport.twoServers(tenant -> tenant.withPreparedStatements(
                tenant.preparedStatements().withCacheUnnamed(true).withMaxPerServer(2))))) {
            controlledSweep(small, "controlled, unnamed statement across units, 2 statements per server",
                    FIRST_SEED + 4_000_000, EnumSet.of(Feature.UNNAMED_ACROSS_UNITS, Feature.PARAM_TYPES));
        }
    }

    /** Binds and Describes of the unnamed statement in a unit with no unnamed Parse before them. */
    private static int unnamedUsesAcrossUnits(Program program) {
        int uses = 0;
        for (Program.Batch batch : program.batches()) {
            boolean parsed = false;
            for (Op op : batch.ops()) {
                boolean unnamedUse = switch (op) {
                    case Op.Bind b -> b.statement().isEmpty();
                    case Op.Describe d -> d.kind() == 'S' && d.name().isEmpty();
                    default -> false;
                };
                if (unnamedUse && !parsed) {
                    uses++;
                }
                if (op instanceof Op.Parse p && p.name().isEmpty()) {
                    parsed = true;
                } else if (op instanceof Op.Sync || op instanceof Op.Query) {
                    parsed = false;
                }
            }
        }
        return uses;
    }

    private static void controlledSweep(PgmuxHarness harness, String name, long firstSeed) throws IOException {
        controlledSweep(harness, name, firstSeed, Set.of());
    }

    private static void controlledSweep(PgmuxHarness harness, String name, long firstSeed, Set<Feature> optIn)
            throws IOException {
        Sweep sweep = new Sweep(name);
        long deadline = System.nanoTime() + BUDGET_NANOS;
        List<ProgramRunner.Result> failures = new ArrayList<>();
        Placement placement = new Placement.Controlled(harness);
        try {
            long seed = firstSeed;
            for (int i = 0; i < PROGRAMS && System.nanoTime() < deadline; i++, seed++) {
                ProgramRunner.Result result = new ProgramRunner(harness)
                        .run(ProgramGenerator.generate(seed, EXCLUDED, optIn), placement);
                sweep.ran(result);
                if (result.matched()) {
                    continue;
                }
                failures.add(result);
                if (!KEEP_GOING) {
                    break;
                }
                // Fresh holders: the failed client may have left its server mid-sequence.
                placement.close();
                placement = new Placement.Controlled(harness);
            }
        } finally {
            placement.close();
        }
        sweep.shrinkAndReport(harness, failures);
    }

    /**
     * Three other clients run simple queries through pgmux meanwhile, so the program's batches land on
     * whichever server is free. The program is reproducible from its seed, the placement is not: each
     * difference is tried again with controlled placement afterwards, and shrunk there when it recurs.
     */
    @Test
    void randomProgramsWithBackgroundClients() throws IOException {
        Sweep sweep = new Sweep("background");
        long seed = FIRST_SEED + 1_000_000;
        long deadline = System.nanoTime() + BUDGET_NANOS;
        List<ProgramRunner.Result> failures = new ArrayList<>();
        try (Placement.Background placement = new Placement.Background(pgmux.get(), 3)) {
            for (int i = 0; i < PROGRAMS && System.nanoTime() < deadline; i++, seed++) {
                ProgramRunner.Result result = new ProgramRunner(pgmux.get())
                        .run(ProgramGenerator.generate(seed, EXCLUDED), placement);
                sweep.ran(result);
                if (!result.matched()) {
                    failures.add(result);
                    if (!KEEP_GOING) {
                        break;
                    }
                }
            }
            System.out.printf("background clients ran %d queries meanwhile%n", placement.queries());
        }
        sweep.shrinkAndReport(pgmux.get(), failures);
    }

    /** Counts what ran and keeps the mismatches, one per distinct first difference. */
    private static final class Sweep {
        private final String name;
        private final long started = System.nanoTime();
        private long ranNanos;
        private final Map<String, String> mismatches = new LinkedHashMap<>();
        private int programs;
        private int batches;
        private int messages;
        private int failedPrograms;

        Sweep(String name) {
            this.name = name;
        }

        void ran(ProgramRunner.Result result) {
            ranNanos = System.nanoTime() - started;
            programs++;
            batches += result.batchesRun();
            messages += result.program().batches().subList(0, result.batchesRun()).stream().mapToInt(b -> b.ops().size()).sum();
            if (!result.matched()) {
                failedPrograms++;
            }
        }

        boolean isNew(ProgramRunner.Result result) {
            return !mismatches.containsKey(result.signature());
        }

        void mismatch(ProgramRunner.Result original, ProgramRunner.Result shrunk) {
            String key = original.signature();
            if (mismatches.containsKey(key)) {
                return;
            }
            String text = "seed " + original.program().seed() + ": " + original.mismatch()
                    + (shrunk == null ? "" : "\nshrunk to:\n" + shrunk.mismatch());
            mismatches.put(key, text);
            System.out.println("=== mismatch (" + name + ") ===\n" + text);
        }

        /**
         * Runs the first failure of each kind again with controlled placement (the program's own switches),
         * shrinks it when it fails again, within its own time budget; then fails with one of each kind.
         */
        void shrinkAndReport(PgmuxHarness harness, List<ProgramRunner.Result> failures) throws IOException {
            long shrinkDeadline = System.nanoTime() + BUDGET_NANOS;
            for (ProgramRunner.Result failure : failures) {
                ProgramRunner.Result small = null;
                if (System.nanoTime() < shrinkDeadline && isNew(failure)) {
                    try (Placement placement = new Placement.Controlled(harness)) {
                        ProgramRunner.Result again = new ProgramRunner(harness).run(failure.program(), placement);
                        if (!again.matched()) {
                            small = new Shrinker(p -> new ProgramRunner(harness).run(p, placement), SHRINK_TRIALS, shrinkDeadline)
                                    .shrink(again);
                        }
                    }
                }
                mismatch(failure, small);
            }
            finish();
        }

        void finish() {
            System.out.printf("%s sweep: %d programs, %d batches, %d messages in %d ms (then %d ms shrinking); "
                            + "%d programs mismatched, %d distinct%n",
                    name, programs, batches, messages, TimeUnit.NANOSECONDS.toMillis(ranNanos),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started - ranNanos), failedPrograms, mismatches.size());
            if (!mismatches.isEmpty()) {
                fail(mismatches.size() + " distinct mismatch(es) in " + failedPrograms + " of " + programs + " programs ("
                        + name + " placement):\n\n" + String.join("\n\n", mismatches.values()));
            }
        }
    }
}
