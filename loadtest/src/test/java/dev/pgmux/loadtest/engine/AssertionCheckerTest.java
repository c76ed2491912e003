package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.stats.ErrorKey;
import dev.pgmux.loadtest.stats.RequestKind;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.stats.StatsCollector;
import dev.pgmux.loadtest.stats.UserCounts;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.pgmux.loadtest.dsl.Dsl.details;
import static dev.pgmux.loadtest.dsl.Dsl.forAll;
import static dev.pgmux.loadtest.dsl.Dsl.global;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AssertionCheckerTest {
    private static final long MS = 1_000_000L;

    /** 100 "fast" requests of 2 ms, 100 "slow" ones of 40 ms with 10 failures, over 2 s. */
    private static RunStats stats() {
        StatsCollector c = new StatsCollector(0, 0);
        for (int i = 0; i < 100; i++) {
            c.record("fast", RequestKind.QUERY, 0, 2 * MS, null);
            c.record("slow", RequestKind.QUERY, 0, 40 * MS, i < 10 ? new ErrorKey("57014", "canceling statement") : null);
        }
        c.record("fast", RequestKind.QUERY, 0, 2_000 * MS, null); // the window ends at 2 s
        c.tick(2_000 * MS, UserCounts.NONE);
        return c.finish();
    }

    @Test
    void globalPerRequestAndForAllAssertions() {
        List<AssertionResult> r = AssertionChecker.check(List.of(
                global().responseTime().percentile(99).lt(50),
                global().failedRequests().percent().lt(1),
                global().requestsPerSec().gt(90),
                details("fast").responseTime().p95().lte(2.01),
                details("missing").responseTime().max().lt(1),
                forAll().responseTime().percentile(50).lt(10)), stats());
        assertThat(r).extracting(AssertionResult::description).containsExactly(
                "global p99 < 50 ms", "global errors < 1%", "global throughput > 90 req/s", "\"fast\" p95 <= 2.01 ms",
                "\"missing\" max < 1 ms (no such requests were measured)", "\"fast\" p50 < 10 ms", "\"slow\" p50 < 10 ms");
        assertThat(r).extracting(AssertionResult::passed).containsExactly(true, false, true, true, false, true, false);
        assertThat(r.get(1).actual()).isCloseTo(100.0 * 10 / 201, within(1e-9));
        assertThat(r.get(2).actual()).isCloseTo(100.5, within(1e-9));
        assertThat(r.get(6).actual()).isCloseTo(40, within(0.05));
    }
}
