package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Scenario;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.stats.StatsCollector;
import dev.pgmux.loadtest.stats.UserCounts;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.pgmux.loadtest.dsl.Dsl.atOnceUsers;
import static dev.pgmux.loadtest.dsl.Dsl.exec;
import static dev.pgmux.loadtest.dsl.Dsl.pause;
import static dev.pgmux.loadtest.dsl.Dsl.scenario;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where a request's latency is measured from. The user runs on the test's thread, so the only timing
 * involved is the one under test; no database.
 */
class VirtualUserTimingTest {
    private static final long MS = 1_000_000L;
    private static final Target NOWHERE = Target.parse("postgresql://u:p@127.0.0.1:1/db", null, null);

    @Test
    void anOpenModelUserThatStartsLateCountsTheDelayInItsFirstRequest() {
        RunStats s = runOne(scenario("late").exec(exec("hit", (c, session) -> { })), 250 * MS, true);
        assertThat(s.request("hit").orElseThrow().stats().min()).isGreaterThanOrEqualTo(250.0);
    }

    @Test
    void aClosedModelUserStartsItsClockWhenItStarts() {
        RunStats s = runOne(scenario("closed").exec(exec("hit", (c, session) -> { })), 250 * MS, false);
        assertThat(s.request("hit").orElseThrow().stats().max()).isLessThan(100.0);
    }

    @Test
    void aRequestAfterAPauseIsTimedFromThePausesEndNotFromTheFirstRequest() {
        long before = System.nanoTime();
        RunStats s = runOne(scenario("pause").exec(exec("first", (c, session) -> { }), pause(Duration.ofMillis(120)),
                exec("second", (c, session) -> { })), 0, true);
        assertThat((System.nanoTime() - before) / 1e6).isGreaterThanOrEqualTo(120.0);
        assertThat(s.request("second").orElseThrow().stats().max()).isLessThan(100.0);
    }

    @Test
    void aFailingCustomStepIsAnErrorAndTheUserGoesOn() {
        RunStats s = runOne(scenario("fail").exec(exec("boom", (c, session) -> { throw new IllegalStateException("no"); }),
                exec("after", (c, session) -> { })), 0, true);
        assertThat(s.request("boom").orElseThrow().stats().errors()).isEqualTo(1);
        assertThat(s.errors().get(0).key().message()).isEqualTo("IllegalStateException: no");
        assertThat(s.request("after").orElseThrow().stats().ok()).isEqualTo(1);
    }

    @Test
    void aQueryWithoutAConnectionFailsWithAMessageSayingSo() {
        RunStats s = runOne(scenario("unconnected").exec(Dsl.query("select", "SELECT 1")), 0, true);
        assertThat(s.errors()).hasSize(1);
        assertThat(s.errors().get(0).key().message()).contains("connect step");
    }

    /** Runs one user synchronously, its schedule {@code lateBy} in the past, and returns the totals. */
    private static RunStats runOne(Scenario scenario, long lateBy, boolean open) {
        long origin = System.nanoTime() - lateBy;
        StatsCollector stats = new StatsCollector(origin, 0);
        RunControl control = new RunControl(stats, 10);
        try (ConnectionSource source = ConnectionSource.create(Dsl.jdbc(), NOWHERE)) {
            UserGroup group = new UserGroup(scenario.injectOpen(atOnceUsers(1)), source);
            new VirtualUser(0, group, control, origin, open).run();
        }
        stats.tick(System.nanoTime(), UserCounts.NONE);
        return stats.finish();
    }
}
