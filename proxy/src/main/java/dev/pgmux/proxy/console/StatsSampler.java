package dev.pgmux.proxy.console;

import dev.pgmux.proxy.metrics.PoolMetrics.Totals;
import dev.pgmux.proxy.pool.PoolRegistry;
import dev.pgmux.proxy.pool.ServerPool;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-database figures behind SHOW STATS, STATS_TOTALS and STATS_AVERAGES. Totals are the pools'
 * counters summed per database ({@code database.tenant}); a pool removed when unused leaves what it counted
 * to its database, as last sampled (a pool goes only after idle_timeout without use, so nothing is lost).
 * Averages are PgBouncer's: rates per second (and times per transaction, query or assignment) from the
 * sample before the last one until now, so over one to two stats periods (60 s).
 */
final class StatsSampler implements AutoCloseable {
    /** The counters in STATS_TOTALS' order: assignments, xacts, queries, bytes in/out, xact/query/wait µs, parses, binds. */
    static final int FIELDS = 11;
    private static final int XACTS = 1;
    private static final int QUERIES = 2;
    private static final int ASSIGNMENTS = 0;
    private static final int XACT_TIME = 5;
    private static final int QUERY_TIME = 6;
    private static final int WAIT_TIME = 7;

    private record Sample(long nanos, Map<String, long[]> perDatabase) {}

    private final PoolRegistry pools;
    private final ScheduledFuture<?> task;
    // Guarded by this.
    private final Map<ServerPool, long[]> lastSeen = new IdentityHashMap<>();
    private final Map<String, long[]> retired = new HashMap<>();
    private Sample previous;
    private Sample last;

    StatsSampler(PoolRegistry pools, EventExecutor loop, Duration period) {
        this.pools = pools;
        long start = System.nanoTime();
        this.previous = new Sample(start - TimeUnit.SECONDS.toNanos(1), Map.of());
        this.last = previous;
        long millis = period.toMillis();
        this.task = loop.scheduleAtFixedRate(this::sample, millis, millis, TimeUnit.MILLISECONDS);
    }

    synchronized void sample() {
        previous = last;
        last = new Sample(System.nanoTime(), totals());
    }

    /** Every database's totals now, in the order its pools were first seen. */
    synchronized Map<String, long[]> totals() {
        Map<String, long[]> sums = new LinkedHashMap<>();
        Map<ServerPool, long[]> seen = new IdentityHashMap<>();
        for (ServerPool pool : pools.all()) {
            long[] values = values(pool.metrics().totals());
            seen.put(pool, values);
            add(sums.computeIfAbsent(ConsoleDatabase.name(pool.key()), k -> new long[FIELDS]), values);
        }
        lastSeen.forEach((pool, values) -> {
            if (!seen.containsKey(pool)) {
                add(retired.computeIfAbsent(ConsoleDatabase.name(pool.key()), k -> new long[FIELDS]), values);
            }
        });
        lastSeen.clear();
        lastSeen.putAll(seen);
        retired.forEach((database, values) -> add(sums.computeIfAbsent(database, k -> new long[FIELDS]), values));
        return sums;
    }

    /** PgBouncer's averages for one database, from its {@code current} totals. */
    synchronized long[] averages(String database, long[] current) {
        long[] before = previous.perDatabase().getOrDefault(database, new long[FIELDS]);
        long nanos = Math.max(1, System.nanoTime() - previous.nanos());
        long[] delta = new long[FIELDS];
        for (int i = 0; i < FIELDS; i++) {
            delta[i] = Math.max(0, current[i] - before[i]);
        }
        long[] avg = new long[FIELDS];
        for (int i = 0; i < FIELDS; i++) {
            avg[i] = perSecond(delta[i], nanos);
        }
        avg[XACT_TIME] = delta[XACTS] == 0 ? 0 : delta[XACT_TIME] / delta[XACTS];
        avg[QUERY_TIME] = delta[QUERIES] == 0 ? 0 : delta[QUERY_TIME] / delta[QUERIES];
        avg[WAIT_TIME] = delta[ASSIGNMENTS] == 0 ? 0 : delta[WAIT_TIME] / delta[ASSIGNMENTS];
        return avg;
    }

    private static long perSecond(long count, long nanos) {
        return (long) (count * 1e9 / nanos);
    }

    static long[] values(Totals t) {
        return new long[] {t.serverAssignments(), t.transactions(), t.queries(), t.bytesReceived(), t.bytesSent(),
                t.transactionMicros(), t.queryMicros(), t.waitMicros(), t.clientParses(), t.serverParses(), t.binds()};
    }

    private static void add(long[] sum, long[] values) {
        for (int i = 0; i < FIELDS; i++) {
            sum[i] += values[i];
        }
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
