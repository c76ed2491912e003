package dev.pgmux.loadtest.stats;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Records every request of a run and cuts the records into intervals.
 *
 * <p>Virtual users call {@link #record} concurrently; it costs two lock-free HdrHistogram recordings. One
 * thread (the runner's ticker) calls {@link #tick} once per interval and {@link #finish} at the end: each tick
 * swaps the interval histograms out of the {@link Recorder}s, so recording never waits for reporting.
 *
 * <p>Latency is {@code end - start} where the caller chooses {@code start}: the runner passes the request's
 * <em>intended</em> start, so time a user spent waiting because the system under test stalled is counted
 * (no coordinated omission). Requests whose (intended) start falls in the warm-up are shown in the intervals
 * they complete in but kept out of the totals, so a backlog built up during the warm-up cannot inflate the
 * measured throughput when it drains afterwards.
 */
public final class StatsCollector {
    private final long originNanos;
    private final long warmupNanos;
    private final ConcurrentHashMap<String, Channel> channels = new ConcurrentHashMap<>();
    private final AtomicInteger nextOrder = new AtomicInteger();
    private final Channel global;
    private final ConcurrentHashMap<ErrorKey, ConcurrentHashMap<String, LongAdder>> errors = new ConcurrentHashMap<>();
    private final LongAccumulator lastEnd = new LongAccumulator(Math::max, Long.MIN_VALUE);

    // Owned by the ticking thread.
    private long lastTickNanos;
    private final List<IntervalSnapshot> intervals = new ArrayList<>();
    private final Map<ErrorKey, Map<String, Long>> errorTotals = new LinkedHashMap<>();
    private boolean finished;

    /**
     * @param originNanos  the run's time zero, in {@link System#nanoTime()} terms
     * @param warmupNanos  requests starting before {@code originNanos + warmupNanos} are not totalled
     */
    public StatsCollector(long originNanos, long warmupNanos) {
        this.originNanos = originNanos;
        this.warmupNanos = Math.max(0, warmupNanos);
        this.lastTickNanos = originNanos;
        this.global = new Channel("", RequestKind.QUERY, -1, this.warmupNanos > 0);
    }

    public long originNanos() {
        return originNanos;
    }

    /**
     * Records one completed request. Thread-safe.
     *
     * @param error null for success, else what went wrong
     */
    public void record(String name, RequestKind kind, long startNanos, long endNanos, ErrorKey error) {
        record(name, kind, startNanos, endNanos, error, startNanos);
    }

    /**
     * As {@link #record(String, RequestKind, long, long, ErrorKey)}, with {@code dueNanos} deciding whether the
     * request counts in the totals (due at or after the warm-up's end): an open-model user passes its
     * scheduled arrival, so all requests of a user who arrived in the warm-up stay out, however late they ran.
     */
    public void record(String name, RequestKind kind, long startNanos, long endNanos, ErrorKey error, long dueNanos) {
        long micros = Latency.micros(endNanos - startNanos);
        Channel channel = channels.computeIfAbsent(name, n -> new Channel(n, kind, nextOrder.getAndIncrement(), warmupNanos > 0));
        boolean counted = dueNanos - originNanos >= warmupNanos;
        channel.recorder(error == null, counted).recordValue(micros);
        if (kind.countsInGlobal()) {
            global.recorder(error == null, counted).recordValue(micros);
        }
        if (error != null && counted) {
            errors.computeIfAbsent(error, k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(name, n -> new LongAdder()).increment();
        }
        lastEnd.accumulate(endNanos);
    }

    /** Closes the interval ending at {@code nowNanos}. Called by one thread only. */
    public IntervalSnapshot tick(long nowNanos, UserCounts users) {
        if (finished) {
            throw new IllegalStateException("finished");
        }
        boolean warmup = lastTickNanos - originNanos < warmupNanos;
        Map<String, LatencyStats> perRequest = new LinkedHashMap<>();
        for (Channel c : ordered()) {
            perRequest.put(c.name, c.drain());
        }
        LatencyStats g = global.drain();
        drainErrors();
        IntervalSnapshot snapshot = new IntervalSnapshot(intervals.size() + 1, seconds(lastTickNanos),
                seconds(nowNanos), warmup, users, g, perRequest);
        intervals.add(snapshot);
        lastTickNanos = nowNanos;
        return snapshot;
    }

    /** The totals, after the last {@link #tick}. */
    public RunStats finish() {
        finished = true;
        long measureStart = originNanos + warmupNanos;
        long end = lastEnd.get();
        double measured = end == Long.MIN_VALUE || end <= measureStart ? 0 : (end - measureStart) / 1e9;
        List<RequestSummary> requests = new ArrayList<>();
        for (Channel c : ordered()) {
            LatencyStats s = LatencyStats.of(c.total, c.totalErrors);
            requests.add(new RequestSummary(c.name, c.kind, s, measured <= 0 ? 0 : s.count() / measured));
        }
        LatencyStats g = LatencyStats.of(global.total, global.totalErrors);
        List<ErrorSummary> errorList = new ArrayList<>();
        errorTotals.forEach((k, byRequest) -> errorList.add(
                new ErrorSummary(k, byRequest.values().stream().mapToLong(Long::longValue).sum(), Map.copyOf(byRequest))));
        errorList.sort(Comparator.comparingLong(ErrorSummary::count).reversed());
        return new RunStats(g, measured, measured <= 0 ? 0 : g.count() / measured, List.copyOf(requests),
                List.copyOf(errorList), List.copyOf(intervals), Distribution.buckets(global.total),
                Distribution.percentiles(global.total));
    }

    private List<Channel> ordered() {
        return channels.values().stream().sorted(Comparator.comparingInt(c -> c.order)).toList();
    }

    private void drainErrors() {
        errors.forEach((key, byRequest) -> byRequest.forEach((name, adder) -> {
            long n = adder.sumThenReset();
            if (n > 0) {
                errorTotals.computeIfAbsent(key, k -> new LinkedHashMap<>()).merge(name, n, Long::sum);
            }
        }));
    }

    private double seconds(long nanos) {
        return (nanos - originNanos) / 1e9;
    }

    /**
     * One request name: interval recorders filled by users, totals kept by the ticker. Requests that started
     * in the warm-up have recorders of their own, drawn in the timeline but never totalled.
     */
    private static final class Channel {
        final String name;
        final RequestKind kind;
        final int order;
        final Recorder ok = Latency.recorder();
        final Recorder ko = Latency.recorder();
        final Recorder warmOk;
        final Recorder warmKo;
        Histogram okSpare;
        Histogram koSpare;
        Histogram warmOkSpare;
        Histogram warmKoSpare;
        final Histogram total = Latency.histogram();
        long totalErrors;

        Channel(String name, RequestKind kind, int order, boolean warmup) {
            this.name = name;
            this.kind = kind;
            this.order = order;
            this.warmOk = warmup ? Latency.recorder() : null;
            this.warmKo = warmup ? Latency.recorder() : null;
        }

        Recorder recorder(boolean success, boolean counted) {
            if (!counted && warmOk != null) {
                return success ? warmOk : warmKo;
            }
            return success ? ok : ko;
        }

        /** This interval's figures (warm-up starts included); only requests counted go into the totals. */
        LatencyStats drain() {
            okSpare = ok.getIntervalHistogram(okSpare);
            koSpare = ko.getIntervalHistogram(koSpare);
            Histogram counted = okSpare.copy();
            counted.add(koSpare);
            total.add(counted);
            totalErrors += koSpare.getTotalCount();
            if (warmOk == null) {
                return LatencyStats.of(counted, koSpare.getTotalCount());
            }
            warmOkSpare = warmOk.getIntervalHistogram(warmOkSpare);
            warmKoSpare = warmKo.getIntervalHistogram(warmKoSpare);
            Histogram all = counted.copy();
            all.add(warmOkSpare);
            all.add(warmKoSpare);
            return LatencyStats.of(all, koSpare.getTotalCount() + warmKoSpare.getTotalCount());
        }
    }
}
