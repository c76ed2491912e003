package dev.pgmux.proxy.metrics;

import dev.pgmux.proxy.metrics.PoolMetrics.Totals;

/**
 * PgBouncer's statistics arithmetic, shared by the console's SHOW STATS and the periodic statistics log line:
 * a pool's (or a database's) {@link Totals} as an array in STATS_TOTALS' column order, and the averages over a
 * period between two such arrays: counts and bytes per second, times per transaction, query or server
 * assignment.
 */
public final class StatsAverages {
    /** The counters in STATS_TOTALS' order: assignments, xacts, queries, bytes in/out, xact/query/wait µs, parses, binds. */
    public static final int FIELDS = 11;
    public static final int ASSIGNMENTS = 0;
    public static final int XACTS = 1;
    public static final int QUERIES = 2;
    public static final int BYTES_IN = 3;
    public static final int BYTES_OUT = 4;
    public static final int XACT_TIME = 5;
    public static final int QUERY_TIME = 6;
    public static final int WAIT_TIME = 7;

    private StatsAverages() {}

    public static long[] values(Totals t) {
        return new long[] {t.serverAssignments(), t.transactions(), t.queries(), t.bytesReceived(), t.bytesSent(),
                t.transactionMicros(), t.queryMicros(), t.waitMicros(), t.clientParses(), t.serverParses(), t.binds()};
    }

    /**
     * The averages from {@code before} to {@code now}, {@code nanos} apart: every counter per second, except the
     * three times, which are per transaction, per query and per server assignment (µs).
     */
    public static long[] averages(long[] before, long[] now, long nanos) {
        long[] delta = delta(before, now);
        long elapsed = Math.max(1, nanos);
        long[] avg = new long[FIELDS];
        for (int i = 0; i < FIELDS; i++) {
            avg[i] = (long) (delta[i] * 1e9 / elapsed);
        }
        avg[XACT_TIME] = delta[XACTS] == 0 ? 0 : delta[XACT_TIME] / delta[XACTS];
        avg[QUERY_TIME] = delta[QUERIES] == 0 ? 0 : delta[QUERY_TIME] / delta[QUERIES];
        avg[WAIT_TIME] = delta[ASSIGNMENTS] == 0 ? 0 : delta[WAIT_TIME] / delta[ASSIGNMENTS];
        return avg;
    }

    /** Whether anything was counted between the two: a server assigned, a query run, a byte relayed. */
    public static boolean anyTraffic(long[] before, long[] now) {
        long[] delta = delta(before, now);
        return delta[ASSIGNMENTS] + delta[XACTS] + delta[QUERIES] + delta[BYTES_IN] + delta[BYTES_OUT] > 0;
    }

    private static long[] delta(long[] before, long[] now) {
        long[] delta = new long[FIELDS];
        for (int i = 0; i < FIELDS; i++) {
            delta[i] = Math.max(0, now[i] - before[i]);
        }
        return delta;
    }
}
