package dev.pgmux.loadtest.stats;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The statistics against inputs whose answers are known. Times are synthetic nanoseconds: nothing sleeps. */
class StatsCollectorTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000 * MS;
    private static final long T0 = 1_000 * S; // an arbitrary origin, as System.nanoTime() has

    @Test
    void percentilesOfAKnownUniformSet() {
        StatsCollector c = new StatsCollector(T0, 0);
        // 10,000 requests with latencies 1, 2, ..., 10,000 microseconds (0.001 .. 10 ms)
        for (int i = 1; i <= 10_000; i++) {
            c.record("q", RequestKind.QUERY, T0, T0 + i * 1_000L, null);
        }
        c.tick(T0 + S, UserCounts.NONE);
        RunStats s = c.finish();
        LatencyStats g = s.global();
        assertThat(g.count()).isEqualTo(10_000);
        assertThat(g.errors()).isZero();
        // HdrHistogram keeps 3 significant digits: 0.1 % at most off
        assertThat(g.min()).isEqualTo(0.001);
        assertThat(g.p50()).isCloseTo(5.0, within(0.005));
        assertThat(g.p95()).isCloseTo(9.5, within(0.0095));
        assertThat(g.p99()).isCloseTo(9.9, within(0.0099));
        assertThat(g.p999()).isCloseTo(9.99, within(0.01));
        assertThat(g.max()).isCloseTo(10.0, within(0.01));
        assertThat(g.mean()).isCloseTo(5.0005, within(0.005));
        assertThat(s.request("q").orElseThrow().stats()).isEqualTo(g);
    }

    @Test
    void aSingleSlowRequestIsTheMaxAndOnlyMovesTheTopPercentiles() {
        StatsCollector c = new StatsCollector(T0, 0);
        for (int i = 0; i < 999; i++) {
            c.record("q", RequestKind.QUERY, T0, T0 + 2 * MS, null);
        }
        c.record("q", RequestKind.QUERY, T0, T0 + 1_500 * MS, null);
        c.tick(T0 + S, UserCounts.NONE);
        LatencyStats g = c.finish().global();
        assertThat(g.p50()).isCloseTo(2.0, within(0.002));
        assertThat(g.p99()).isCloseTo(2.0, within(0.002));
        assertThat(g.p999()).isCloseTo(2.0, within(0.002));
        assertThat(g.max()).isCloseTo(1_500, within(1.5));
    }

    /**
     * The classic coordinated-omission case: one client sends a request every 10 ms for 2 s; the server
     * stalls for 1 s at t = 0.5 s. Timed from when the requests were actually sent, the stall is one slow
     * request; timed from when they were meant to be sent (what the engine does), every request that was due
     * during the stall waited for it.
     */
    @Test
    void timingFromTheIntendedStartShowsAStallThatSendTimesHide() {
        StatsCollector intended = new StatsCollector(T0, 0);
        StatsCollector naive = new StatsCollector(T0, 0);
        long stallStart = T0 + 500 * MS;
        long stallEnd = T0 + 1_500 * MS;
        long service = MS;
        long clientFree = T0; // one connection: the next request goes out when the previous answer is back
        for (int i = 0; i < 200; i++) {
            long due = T0 + i * 10 * MS;
            long sent = Math.max(due, clientFree);
            long done = sent >= stallStart && sent < stallEnd ? stallEnd + service : sent + service;
            intended.record("q", RequestKind.QUERY, due, done, null);
            naive.record("q", RequestKind.QUERY, sent, done, null);
            clientFree = done;
        }
        intended.tick(T0 + 3 * S, UserCounts.NONE);
        naive.tick(T0 + 3 * S, UserCounts.NONE);
        LatencyStats right = intended.finish().global();
        LatencyStats wrong = naive.finish().global();

        // Request 50 (due at 0.5 s) is sent into the stall and returns at 1.501 s. Requests 51..161 were due
        // meanwhile and go out back to back as soon as it returns; request k completes at 1.502 s + (k - 51) ms,
        // 1451 - 9k ms after it was due: 992, 983, ..., 2 ms. The other 88 take 1 ms.
        assertThat(wrong.max()).isCloseTo(1_001, within(2.0));
        assertThat(wrong.p50()).isCloseTo(1.0, within(0.01));
        assertThat(wrong.p99()).isCloseTo(1.0, within(0.01)); // the stall is invisible below the max
        assertThat(right.max()).isCloseTo(1_001, within(2.0));
        assertThat(right.p50()).isCloseTo(101, within(1.0));   // the 100th of 200: 2 + 9 * 11 ms
        assertThat(right.p75()).isCloseTo(551, within(1.0));   // the 150th: 2 + 9 * 61 ms
        assertThat(right.p99()).isCloseTo(983, within(1.0));   // the 198th: 2 + 9 * 109 ms
    }

    @Test
    void errorsAreCountedByStateAndMessageAndRequest() {
        StatsCollector c = new StatsCollector(T0, 0);
        ErrorKey timeout = new ErrorKey("53300", "unable to check out connection from the pool after 10000ms");
        ErrorKey missing = new ErrorKey("42P01", "relation \"nope\" does not exist");
        c.record("a", RequestKind.QUERY, T0, T0 + MS, null);
        c.record("a", RequestKind.QUERY, T0, T0 + MS, timeout);
        c.record("b", RequestKind.QUERY, T0, T0 + MS, timeout);
        c.record("b", RequestKind.QUERY, T0, T0 + MS, timeout);
        c.record("b", RequestKind.QUERY, T0, T0 + MS, missing);
        IntervalSnapshot i = c.tick(T0 + S, UserCounts.NONE);
        RunStats s = c.finish();
        assertThat(i.global().errors()).isEqualTo(4);
        assertThat(s.global().count()).isEqualTo(5);
        assertThat(s.global().errorPercent()).isCloseTo(80.0, within(1e-9));
        assertThat(s.errors()).hasSize(2);
        ErrorSummary first = s.errors().get(0);
        assertThat(first.key()).isEqualTo(timeout);
        assertThat(first.count()).isEqualTo(3);
        assertThat(first.byRequest()).containsEntry("a", 1L).containsEntry("b", 2L);
        assertThat(s.errors().get(1).key().sqlState()).isEqualTo("42P01");
        assertThat(s.request("a").orElseThrow().stats().errors()).isEqualTo(1);
    }

    @Test
    void intervalsHoldWhatCompletedInThemAndRatesUseTheMeasuredWindow() {
        StatsCollector c = new StatsCollector(T0, 0);
        for (int i = 0; i < 100; i++) {
            c.record("q", RequestKind.QUERY, T0, T0 + 10 * MS, null);
        }
        IntervalSnapshot first = c.tick(T0 + S, new UserCounts(3, 3, 0, 0));
        for (int i = 0; i < 300; i++) {
            c.record("q", RequestKind.QUERY, T0 + S, T0 + S + 20 * MS, null);
        }
        c.record("q", RequestKind.QUERY, T0 + S, T0 + 2 * S, null); // the last request ends at 2 s
        IntervalSnapshot second = c.tick(T0 + 2 * S, new UserCounts(0, 3, 3, 0));
        RunStats s = c.finish();
        assertThat(first.global().count()).isEqualTo(100);
        assertThat(first.requestsPerSecond()).isCloseTo(100, within(1e-9));
        assertThat(first.global().p50()).isCloseTo(10, within(0.01));
        assertThat(first.users().active()).isEqualTo(3);
        assertThat(second.global().count()).isEqualTo(301);
        assertThat(second.global().p50()).isCloseTo(20, within(0.02));
        assertThat(second.startSeconds()).isCloseTo(1.0, within(1e-9));
        assertThat(s.intervals()).hasSize(2);
        assertThat(s.measuredSeconds()).isCloseTo(2.0, within(1e-9));
        assertThat(s.globalRequestsPerSecond()).isCloseTo(200.5, within(1e-9));
    }

    @Test
    void requestsStartedInTheWarmupAreShownButNotTotalled() {
        StatsCollector c = new StatsCollector(T0, S);
        c.record("q", RequestKind.QUERY, T0, T0 + 500 * MS, new ErrorKey("57P03", "starting up"));
        IntervalSnapshot warm = c.tick(T0 + S, UserCounts.NONE);
        c.record("q", RequestKind.QUERY, T0 + S, T0 + S + 5 * MS, null);
        c.record("q", RequestKind.QUERY, T0 + S, T0 + 2 * S, null);
        // due in the warm-up, done after it: part of the warm-up's backlog, shown but not totalled
        c.record("q", RequestKind.QUERY, T0 + 900 * MS, T0 + S + 300 * MS, new ErrorKey("53300", "too many clients"));
        // an open-model user who arrived in the warm-up: its later request is not totalled either
        c.record("q", RequestKind.QUERY, T0 + S + 300 * MS, T0 + S + 310 * MS, null, T0 + 900 * MS);
        IntervalSnapshot measured = c.tick(T0 + 2 * S, UserCounts.NONE);
        RunStats s = c.finish();
        assertThat(warm.warmup()).isTrue();
        assertThat(warm.global().count()).isEqualTo(1);
        assertThat(measured.warmup()).isFalse();
        assertThat(measured.global().count()).isEqualTo(4);
        assertThat(measured.global().errors()).isEqualTo(1);
        assertThat(s.global().count()).isEqualTo(2);
        assertThat(s.global().errors()).isZero();
        assertThat(s.errors()).isEmpty();
        assertThat(s.measuredSeconds()).isCloseTo(1.0, within(1e-9));
        assertThat(s.global().max()).isCloseTo(1_000, within(1.0));
    }

    @Test
    void transactionsHaveTheirOwnRowButStayOutOfTheGlobalTotals() {
        StatsCollector c = new StatsCollector(T0, 0);
        c.record("connect", RequestKind.CONNECT, T0, T0 + 30 * MS, null);
        c.record("update", RequestKind.QUERY, T0, T0 + MS, null);
        c.record("select", RequestKind.QUERY, T0, T0 + MS, null);
        c.record("tx", RequestKind.TRANSACTION, T0, T0 + 3 * MS, null);
        c.tick(T0 + S, UserCounts.NONE);
        RunStats s = c.finish();
        assertThat(s.global().count()).isEqualTo(3);
        assertThat(s.requests()).extracting(RequestSummary::name).containsExactly("connect", "update", "select", "tx");
        assertThat(s.request("tx").orElseThrow().kind()).isEqualTo(RequestKind.TRANSACTION);
        assertThat(s.request("tx").orElseThrow().stats().count()).isEqualTo(1);
    }

    @Test
    void distributionBucketsCoverEveryRequest() {
        StatsCollector c = new StatsCollector(T0, 0);
        for (int i = 1; i <= 1_000; i++) {
            c.record("q", RequestKind.QUERY, T0, T0 + i * 10_000L, null); // 0.01 .. 10 ms
        }
        c.record("q", RequestKind.QUERY, T0, T0 + 900 * MS, null); // a far outlier
        c.tick(T0 + S, UserCounts.NONE);
        RunStats s = c.finish();
        List<Distribution.Bucket> b = s.distribution();
        assertThat(b.stream().mapToLong(Distribution.Bucket::count).sum()).isEqualTo(1_001);
        assertThat(b.get(b.size() - 1).openEnded()).isTrue();
        assertThat(b.get(0).fromMs()).isLessThanOrEqualTo(0.01);
        assertThat(b.size()).isBetween(10, 60);
        // equal widths, a round number of microseconds
        double width = b.get(0).toMs() - b.get(0).fromMs();
        assertThat(b).allSatisfy(x -> assertThat(x.toMs() - x.fromMs()).isCloseTo(width, within(1e-9)));
        assertThat(s.percentiles()).extracting(Distribution.PercentilePoint::percentile).contains(0.0, 50.0, 99.0, 99.9, 100.0);
        assertThat(s.percentiles().get(s.percentiles().size() - 1).ms()).isCloseTo(900, within(1.0));
    }

    @Test
    void niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(Distribution.niceStep(0.3)).isEqualTo(1);
        assertThat(Distribution.niceStep(3)).isEqualTo(5);
        assertThat(Distribution.niceStep(17)).isEqualTo(20);
        assertThat(Distribution.niceStep(100)).isEqualTo(100);
        assertThat(Distribution.niceStep(101)).isEqualTo(200);
    }

    @Test
    void errorMessagesKeepTheirFirstLineOnly() {
        ErrorKey k = new ErrorKey("23505", "duplicate key value violates unique constraint \"p\"\n  Detail: Key (id)=(5) already exists.");
        assertThat(k.message()).isEqualTo("duplicate key value violates unique constraint \"p\"");
        assertThat(new ErrorKey(null, "x").sqlStateOrDash()).isEqualTo("-");
    }
}
