package dev.pgmux.proxy.model;

import dev.pgmux.proxy.model.ProgramGenerator.Feature;
import dev.pgmux.proxy.testing.PgmuxHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Model-based test of pgmux's response bookkeeping in transaction mode: seeded random programs of Parse,
 * Bind, Describe, Execute, Close, Sync, Flush and simple queries (with errors in the middle of batches) run
 * on a direct Postgres connection and through pgmux's transaction port, where consecutive batches land on
 * different servers. The client must see exactly what the direct server sends.
 *
 * <p>Knobs (system properties): {@code pgmux.model.seed} (first seed), {@code pgmux.model.programs} (per
 * sweep), {@code pgmux.model.budgetSeconds} (per sweep), {@code pgmux.model.exclude} (comma-separated
 * {@link Feature}s to leave out, to look past a known difference), {@code pgmux.model.keepGoing} (collect
 * every distinct mismatch instead of stopping at the first).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ResponseOrderModelTest {
    private static final long FIRST_SEED = Long.getLong("pgmux.model.seed", 20_261_121L);
    private static final int PROGRAMS = Integer.getInteger("pgmux.model.programs", 200);
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Integer.getInteger("pgmux.model.budgetSeconds", 25));
    private static final Set<Feature> EXCLUDED = Feature.parse(System.getProperty("pgmux.model.exclude"));
    private static final boolean KEEP_GOING = Boolean.getBoolean("pgmux.model.keepGoing");

    private static PgmuxHarness pgmux;

    @BeforeAll
    static void start() {
        pgmux = ModelSupport.startPgmux();
    }

    @AfterAll
    static void stop() {
        if (pgmux != null) {
            pgmux.close();
        }
    }

    /** The placement the tests below rely on: a switch moves the client to the other server, no switch keeps it. */
    @Test
    void controlledPlacementAlternatesServers() throws IOException {
        try (Placement placement = new Placement.Controlled(pgmux);
             WireClient client = Placement.pgmuxClient(pgmux, "probe", java.time.Duration.ofSeconds(5))) {
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
        Sweep sweep = new Sweep("controlled");
        long seed = FIRST_SEED;
        long deadline = System.nanoTime() + BUDGET_NANOS;
        Placement placement = new Placement.Controlled(pgmux);
        try {
            for (int i = 0; i < PROGRAMS && System.nanoTime() < deadline; i++, seed++) {
                Program program = ProgramGenerator.generate(seed, EXCLUDED);
                ProgramRunner.Result result = new ProgramRunner(pgmux).run(program, placement);
                sweep.ran(result);
                if (result.matched()) {
                    continue;
                }
                // Fresh holders after a mismatch: the failed client may have left its server mid-sequence.
                placement.close();
                placement = new Placement.Controlled(pgmux);
                Placement shrinking = placement;
                ProgramRunner.Result small = new Shrinker(p -> new ProgramRunner(pgmux).run(p, shrinking), 400).shrink(result);
                sweep.mismatch(result, small);
                if (!KEEP_GOING) {
                    break;
                }
                placement.close();
                placement = new Placement.Controlled(pgmux);
            }
        } finally {
            placement.close();
        }
        sweep.finish();
    }

    /**
     * As the brief of transaction mode has it: other clients run simple queries meanwhile, so the
     * program's batches land wherever a server is free. Placement is not reproducible, the program is.
     */
    @Test
    void randomProgramsWithBackgroundClients() throws IOException {
        Sweep sweep = new Sweep("background");
        long seed = FIRST_SEED + 1_000_000;
        long deadline = System.nanoTime() + BUDGET_NANOS;
        long backgroundQueries;
        try (Placement.Background placement = new Placement.Background(pgmux, 3)) {
            for (int i = 0; i < PROGRAMS && System.nanoTime() < deadline; i++, seed++) {
                Program program = ProgramGenerator.generate(seed, EXCLUDED);
                ProgramRunner.Result result = new ProgramRunner(pgmux).run(program, placement);
                sweep.ran(result);
                if (!result.matched()) {
                    sweep.mismatch(result, null);
                    if (!KEEP_GOING) {
                        break;
                    }
                }
            }
            backgroundQueries = placement.queries();
        }
        System.out.printf("background clients ran %d queries meanwhile%n", backgroundQueries);
        sweep.finish();
    }

    /** Counts what ran and keeps the mismatches, one per distinct first difference. */
    private static final class Sweep {
        private final String name;
        private final long started = System.nanoTime();
        private final Map<String, String> mismatches = new LinkedHashMap<>();
        private int programs;
        private int batches;
        private int messages;
        private int failedPrograms;

        Sweep(String name) {
            this.name = name;
        }

        void ran(ProgramRunner.Result result) {
            programs++;
            batches += result.batchesRun();
            messages += result.program().batches().subList(0, result.batchesRun()).stream().mapToInt(b -> b.ops().size()).sum();
            if (!result.matched()) {
                failedPrograms++;
            }
        }

        void mismatch(ProgramRunner.Result original, ProgramRunner.Result shrunk) {
            String key = signature(shrunk != null ? shrunk.mismatch() : original.mismatch());
            if (mismatches.containsKey(key)) {
                return;
            }
            String text = "seed " + original.program().seed() + ": " + original.mismatch()
                    + (shrunk == null ? "" : "\nshrunk to:\n" + shrunk.mismatch());
            mismatches.put(key, text);
            System.out.println("=== mismatch (" + name + ") ===\n" + text);
        }

        /** The first-difference line without the numbers that vary (server names, indexes). */
        private static String signature(String mismatch) {
            for (String line : mismatch.split("\n")) {
                if (line.contains("first difference")) {
                    return line.replaceAll("pgmux_[0-9a-z]+", "pgmux_N").replaceAll("message \\d+", "message N");
                }
            }
            return mismatch;
        }

        void finish() {
            System.out.printf("%s sweep: %d programs, %d batches, %d messages in %d ms; %d programs mismatched, %d distinct%n",
                    name, programs, batches, messages, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                    failedPrograms, mismatches.size());
            if (!mismatches.isEmpty()) {
                fail(mismatches.size() + " distinct mismatch(es) in " + failedPrograms + " of " + programs + " programs ("
                        + name + " placement):\n\n" + String.join("\n\n", mismatches.values()));
            }
        }
    }
}
