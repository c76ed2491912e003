package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.model.Program.Batch;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;

import java.io.IOException;
import java.time.Duration;

/**
 * Runs one program against a direct Postgres connection and a pgmux transaction-mode connection in
 * lockstep, batch by batch, and stops at the first batch they answer differently.
 */
final class ProgramRunner {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How a run ended: {@code mismatch} (the report) and {@code difference} are null when every batch was
     * answered the same.
     */
    record Result(Program program, int batchesRun, String mismatch, Responses.Difference difference) {
        boolean matched() {
            return mismatch == null;
        }

        /** The kind of difference, without the names and numbers that vary between occurrences. */
        String signature() {
            return difference == null ? null : difference.signature();
        }
    }

    private final PgmuxHarness harness;

    ProgramRunner(PgmuxHarness harness) {
        this.harness = harness;
    }

    Result run(Program program, Placement placement) throws IOException {
        TestPostgres pg = TestPostgres.get();
        try (WireClient direct = WireClient.login("direct", pg.host(), pg.port(), TestPostgres.SCRAM.name(),
                TestPostgres.SCRAM.password(), "postgres", READ_TIMEOUT);
             WireClient mux = Placement.pgmuxClient(harness, "pgmux", READ_TIMEOUT)) {
            char status = 'I';
            for (int i = 0; i < program.batches().size(); i++) {
                Batch batch = program.batches().get(i);
                if (status == 'I') {
                    placement.beforeBatch(batch.switchServer());
                }
                byte[] bytes = batch.bytes();
                WireClient.Reply expected = direct.exchange(bytes, batch.readyCount());
                if (!expected.complete()) {
                    throw new IOException("direct Postgres did not answer batch #" + i + " " + batch + ": "
                            + expected.failure() + "; received " + expected.messages());
                }
                WireClient.Reply actual = mux.exchange(bytes, batch.readyCount());
                Responses.Difference difference = Responses.compare(expected.messages(), actual.messages());
                if (difference == null && !actual.complete()) {
                    difference = new Responses.Difference(Responses.relevant(actual.messages()).size(), actual.failure());
                }
                if (difference != null) {
                    return new Result(program, i + 1, report(program, placement, i, expected, actual, difference), difference);
                }
                status = WireClient.lastStatus(actual.messages());
            }
            return new Result(program, program.batches().size(), null, null);
        }
    }

    private static String report(Program program, Placement placement, int index, WireClient.Reply expected,
                                 WireClient.Reply actual, Responses.Difference difference) {
        StringBuilder sb = new StringBuilder();
        sb.append("pgmux answered batch #").append(index).append(" differently from direct Postgres");
        if (program.seed() != 0) {
            sb.append(" (seed ").append(program.seed()).append(')');
        }
        sb.append("\n  placement: ").append(placement.describe());
        sb.append("\n  first difference at message ").append(difference.index()).append(": ").append(difference.what());
        if (!actual.complete()) {
            sb.append("\n  pgmux: ").append(actual.failure());
        }
        sb.append("\nprogram up to that batch:\n").append(program.describe(index));
        sb.append("responses to batch #").append(index).append(":\n")
                .append(Responses.sideBySide(expected.messages(), actual.messages(), difference.index()));
        return sb.toString();
    }
}
