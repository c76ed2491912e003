package dev.pgmux.proxy.log;

import dev.pgmux.proxy.metrics.StatsAverages;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.pool.PoolRegistry;
import dev.pgmux.proxy.pool.ServerPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;

import static dev.pgmux.proxy.metrics.StatsAverages.BYTES_IN;
import static dev.pgmux.proxy.metrics.StatsAverages.BYTES_OUT;
import static dev.pgmux.proxy.metrics.StatsAverages.QUERIES;
import static dev.pgmux.proxy.metrics.StatsAverages.QUERY_TIME;
import static dev.pgmux.proxy.metrics.StatsAverages.WAIT_TIME;
import static dev.pgmux.proxy.metrics.StatsAverages.XACTS;
import static dev.pgmux.proxy.metrics.StatsAverages.XACT_TIME;

/**
 * Every {@code log.stats_period}, one line per pool that had traffic in the period, on the logger
 * {@value #LOGGER} at INFO, with PgBouncer's figures (the same as SHOW STATS_AVERAGES computes, over the
 * period):
 *
 * <pre>
 * pool acme/postgres/app stats: 12 xacts/s, 15 queries/s, in 2048 B/s, out 4096 B/s, xact 812 us, query 640 us, wait 35 us
 * </pre>
 *
 * Not thread-safe: one thread ({@link Logs}' timer) calls it.
 */
final class StatsLog {
    static final String LOGGER = "pgmux.stats";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final PoolRegistry pools;
    /** Each pool's totals at the last line; pools gone since are dropped. */
    private Map<ServerPool, long[]> last = new IdentityHashMap<>();
    /** When the period began, or -1 when the lines are off. */
    private long sinceNanos;

    /** The first period begins at {@code startNanos}, with no pool yet: whatever pools count from then on is in it. */
    StatsLog(PoolRegistry pools, long startNanos) {
        this.pools = pools;
        this.sinceNanos = startNanos;
    }

    /** Writes the lines when {@code period} has passed since the last ones; a zero period turns them off. */
    void tick(Duration period, long nowNanos) {
        if (period.isZero()) {
            sinceNanos = -1;
            last = new IdentityHashMap<>();
        } else if (sinceNanos < 0) {
            last = totals(); // turned on by a reload: the first period starts now
            sinceNanos = nowNanos;
        } else if (nowNanos - sinceNanos >= period.toNanos() - 500_000_000L) { // ticks come about a second apart
            write(nowNanos);
        }
    }

    private void write(long nowNanos) {
        Map<ServerPool, long[]> now = totals();
        if (log.isInfoEnabled()) {
            long nanos = nowNanos - sinceNanos;
            now.forEach((pool, totals) -> {
                long[] before = last.getOrDefault(pool, new long[StatsAverages.FIELDS]); // new in this period
                if (StatsAverages.anyTraffic(before, totals)) {
                    line(pool.key(), StatsAverages.averages(before, totals, nanos));
                }
            });
        }
        last = now;
        sinceNanos = nowNanos;
    }

    private Map<ServerPool, long[]> totals() {
        Map<ServerPool, long[]> totals = new IdentityHashMap<>();
        for (ServerPool pool : pools.all()) {
            totals.put(pool, StatsAverages.values(pool.metrics().totals()));
        }
        return totals;
    }

    private static void line(PoolKey key, long[] avg) {
        log.atInfo()
                .addKeyValue("event", "stats")
                .addKeyValue("tenant", key.tenant())
                .addKeyValue("database", key.database())
                .addKeyValue("user", key.user())
                .addKeyValue("xacts_per_s", avg[XACTS])
                .addKeyValue("queries_per_s", avg[QUERIES])
                .addKeyValue("bytes_in_per_s", avg[BYTES_IN])
                .addKeyValue("bytes_out_per_s", avg[BYTES_OUT])
                .addKeyValue("xact_us", avg[XACT_TIME])
                .addKeyValue("query_us", avg[QUERY_TIME])
                .addKeyValue("wait_us", avg[WAIT_TIME])
                .log("pool {} stats: {} xacts/s, {} queries/s, in {} B/s, out {} B/s, xact {} us, query {} us, wait {} us",
                        key, avg[XACTS], avg[QUERIES], avg[BYTES_IN], avg[BYTES_OUT], avg[XACT_TIME], avg[QUERY_TIME],
                        avg[WAIT_TIME]);
    }
}
