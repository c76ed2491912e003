package dev.pgmux.proxy.console;

import dev.pgmux.proxy.metrics.StatsAverages;
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
    static final int FIELDS = StatsAverages.FIELDS;

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
            long[] values = StatsAverages.values(pool.metrics().totals());
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
        return StatsAverages.averages(before, current, System.nanoTime() - previous.nanos());
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
