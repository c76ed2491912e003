package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.dsl.Assertion;
import dev.pgmux.loadtest.engine.AssertionChecker;
import dev.pgmux.loadtest.engine.GeneratorStats;
import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RunStats;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.pgmux.loadtest.dsl.Dsl.global;
import static org.assertj.core.api.Assertions.assertThat;

/** The recommendation rule on made-up measurements: smallest pool within the margin of the best that meets the assertions. */
class RecommendationTest {
    private static final List<Assertion> P99_50 = List.of(global().responseTime().p99().lt(50), global().failedRequests().percent().lt(1));
    private static final List<String> TEXTS = P99_50.stream().map(Assertion::describe).toList();

    /** A point with {@code ok} successful requests in one second, {@code errors} failed, and this p99. */
    static SweepPoint point(String target, int pool, long ok, long errors, double p99) {
        LatencyStats g = new LatencyStats(ok + errors, errors, 0.1, p99 / 3, p99 / 4, p99 / 2, p99 * 0.9, p99, p99 * 1.2, p99 * 1.5, 1);
        RunStats stats = new RunStats(g, 1.0, ok + errors, List.of(), List.of(), List.of(), List.of(), List.of());
        RunInfo info = new RunInfo(target, "sim", "t", Instant.EPOCH, 1, 0, List.of(), Map.of());
        RunResult r = new RunResult(info, stats, AssertionChecker.check(P99_50, stats), new GeneratorStats(1, 1, 0, 0, false, 0, 0), 1);
        return new SweepPoint(target, pool, r, null, "points/x/report.html");
    }

    @Test
    void theSmallestPoolWithinTheMarginThatMeetsTheAssertionsIsChosen() {
        List<SweepPoint> points = List.of(
                point("pgmux-transaction", 16, 1000, 0, 30),
                point("pgmux-transaction", 2, 500, 0, 12),   // too slow: below 90 % of 1000
                point("pgmux-transaction", 4, 910, 0, 80),   // within the margin, but p99 too high
                point("pgmux-transaction", 8, 950, 0, 40),   // within the margin and meets both: chosen
                point("pgmux-transaction", 32, 990, 0, 35));
        Recommendation r = Recommendation.decide("pgmux-transaction", points, 10, TEXTS);
        assertThat(r.found()).isTrue();
        assertThat(r.poolSize()).isEqualTo(8);
        assertThat(r.bestPoolSize()).isEqualTo(16);
        assertThat(r.bestThroughput()).isEqualTo(1000);
        assertThat(r.floor()).isEqualTo(900);
        assertThat(r.verdicts()).extracting(Recommendation.Verdict::poolSize).containsExactly(2, 4, 8, 16, 32);
        assertThat(r.verdicts()).extracting(Recommendation.Verdict::qualifies).containsExactly(false, false, true, true, true);
        assertThat(r.verdicts().get(0).why()).contains("below the floor of 900");
        assertThat(r.verdicts().get(1).why()).contains("global p99 < 50 ms failed (measured 80.0 ms)");
        assertThat(String.join("\n", r.reasoning())).contains(
                "Best throughput: 1,000 req/s (successful requests) at pool size 16.",
                "Within 10% of it (at least 900 req/s): pool sizes 4, 8, 16, 32.",
                "Of these, meeting every assertion (global p99 < 50 ms; global errors < 1%): 8, 16, 32.",
                "The smallest is 8: recommended pool_size 8");
    }

    @Test
    void failedRequestsAreNoThroughput() {
        List<SweepPoint> points = List.of(
                point("pgmux-session", 2, 400, 600, 10),     // fast failures: 1000 requests, 400 good
                point("pgmux-session", 4, 700, 0, 20));
        Recommendation r = Recommendation.decide("pgmux-session", points, 10, TEXTS);
        assertThat(r.poolSize()).isEqualTo(4);
        assertThat(r.bestPoolSize()).isEqualTo(4);
    }

    @Test
    void noRecommendationWhenNothingMeetsTheAssertionsAndTheReasonIsGiven() {
        List<SweepPoint> points = List.of(point("pgmux-transaction", 2, 500, 0, 90), point("pgmux-transaction", 4, 520, 0, 70),
                new SweepPoint("pgmux-transaction", 8, null, "pgmux did not start: port in use", null));
        Recommendation r = Recommendation.decide("pgmux-transaction", points, 10, TEXTS);
        assertThat(r.found()).isFalse();
        assertThat(r.poolSize()).isZero();
        assertThat(r.reasoning().get(r.reasoning().size() - 1)).contains("no pool size is recommended");
        assertThat(r.verdicts().get(2).why()).isEqualTo("pgmux did not start: port in use");
    }

    @Test
    void aTieGoesToTheSmallerPoolAndTheMarginIsInclusive() {
        List<SweepPoint> points = List.of(point("t", 4, 900, 0, 10), point("t", 8, 1000, 0, 10));
        assertThat(Recommendation.decide("t", points, 10, TEXTS).poolSize()).isEqualTo(4);
        assertThat(Recommendation.decide("t", points, 5, TEXTS).poolSize()).isEqualTo(8);
    }

    @Test
    void theLatencyAddedAgainstDirectPostgresIsStated() {
        SweepPoint direct = point("direct", 0, 1000, 0, 20);
        Recommendation r = Recommendation.decide("pgmux-transaction", List.of(point("pgmux-transaction", 4, 1000, 0, 24)),
                10, TEXTS, direct);
        assertThat(r.reasoning().get(r.reasoning().size() - 1))
                .isEqualTo("Against direct (1,000 req/s, p50 5.00 ms, p99 20.0 ms), pgmux-transaction at pool size 4 measured"
                        + " p50 6.00 ms (+1.00 ms) and p99 24.0 ms (+4.00 ms).");
    }

    @Test
    void nothingMeasuredAtAll() {
        Recommendation r = Recommendation.decide("t", List.of(new SweepPoint("t", 2, null, "refused", null)), 10, TEXTS);
        assertThat(r.found()).isFalse();
        assertThat(r.reasoning().get(0)).contains("pool 2: refused");
    }
}
