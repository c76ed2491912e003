package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.stats.IntervalSnapshot;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.pgmux.loadtest.dsl.Dsl.atOnceUsers;
import static dev.pgmux.loadtest.dsl.Dsl.constantConcurrentUsers;
import static dev.pgmux.loadtest.dsl.Dsl.constantUsersPerSec;
import static dev.pgmux.loadtest.dsl.Dsl.exec;
import static dev.pgmux.loadtest.dsl.Dsl.forever;
import static dev.pgmux.loadtest.dsl.Dsl.pause;
import static dev.pgmux.loadtest.dsl.Dsl.scenario;
import static dev.pgmux.loadtest.dsl.Dsl.setUp;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The injectors in real time, with custom steps instead of a database, a few seconds in all. Tolerances are
 * stated where the wall clock is involved; counts the schedule fixes are exact.
 */
class RunnerRealTimeTest {
    private static final Target NOWHERE = Target.parse("postgresql://u:p@127.0.0.1:1/db", null, null);

    @Test
    void anOpenModelStartsExactlyTheScheduledUsersAtTheRequestedRate() {
        SimulationSetup setup = setUp(scenario("hits").exec(exec("hit", (c, s) -> { }))
                .injectOpen(constantUsersPerSec(50).during(Duration.ofSeconds(2))));
        RunResult r = run(setup, RunOptions.DEFAULTS);
        assertThat(r.generator().usersStarted()).isEqualTo(100);
        assertThat(r.generator().usersDropped()).isZero();
        assertThat(r.stats().request("hit").orElseThrow().stats().count()).isEqualTo(100);
        // each full second: 50 arrivals, within 10 % (the tick that cuts the seconds is itself a few ms late at times)
        for (IntervalSnapshot i : r.stats().intervals().subList(0, 2)) {
            assertThat(i.global().count()).as("requests in %s", i).isBetween(45L, 55L);
        }
        assertThat(r.generator().startLagP99Ms()).as("users start on schedule").isLessThan(100.0);
    }

    @Test
    void aClosedModelKeepsExactlyTheRequestedNumberOfUsersRunning() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        SimulationSetup setup = setUp(scenario("work").exec(exec("work", (c, s) -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
        })).injectClosed(constantConcurrentUsers(5).during(Duration.ofMillis(1500))));
        RunResult r = run(setup, RunOptions.DEFAULTS);
        assertThat(most.get()).isEqualTo(5);
        // The snapshot is an instant: a user that has just finished may not be replaced yet (a replacement starts
        // microseconds after its user ends, so two such gaps at one instant are far rarer still).
        assertThat(r.stats().intervals().get(0).users().active()).isBetween(4, 5);
        // every finished user is replaced: 5 users x 1.5 s / 20 ms = 375 at best; a loaded machine does fewer
        assertThat(r.generator().usersStarted()).isGreaterThan(50);
        assertThat(r.stats().request("work").orElseThrow().stats().count()).isEqualTo(r.generator().usersStarted());
        assertThat(r.generator().usersFinished()).isEqualTo(r.generator().usersStarted());
    }

    @Test
    void foreverLoopsEndWhenTheInjectionEnds() {
        SimulationSetup setup = setUp(scenario("loop").exec(forever(exec("tick", (c, s) -> { }), pause(Duration.ofMillis(10))))
                .injectClosed(constantConcurrentUsers(3).during(Duration.ofSeconds(1))));
        long t0 = System.nanoTime();
        RunResult r = run(setup, RunOptions.DEFAULTS);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(4.0);
        assertThat(r.generator().usersStarted()).isEqualTo(3); // nobody finished early, so nobody was replaced
        assertThat(r.generator().usersStoppedAtDeadline()).isZero();
        // 3 users x 100 rounds of 10 ms, give or take the machine
        assertThat(r.stats().request("tick").orElseThrow().stats().count()).isBetween(150L, 310L);
    }

    @Test
    void usersBeyondTheCapAreDroppedAndCounted() {
        SimulationSetup setup = setUp(scenario("slow").exec(pause(Duration.ofMillis(300)), exec("hit", (c, s) -> { }))
                .injectOpen(atOnceUsers(10)));
        RunResult r = run(setup, RunOptions.DEFAULTS.withMaxActiveUsers(4));
        assertThat(r.generator().usersStarted()).isEqualTo(4);
        assertThat(r.generator().usersDropped()).isEqualTo(6);
        assertThat(r.stats().global().count()).isEqualTo(4);
    }

    @Test
    void usersStillRunningAtTheDeadlineAreStoppedAndNotCounted() {
        SimulationSetup setup = setUp(scenario("stuck").exec(exec("before", (c, s) -> { }), pause(Duration.ofSeconds(30)),
                exec("never", (c, s) -> { })).injectOpen(atOnceUsers(3))).maxDuration(Duration.ofMillis(500));
        long t0 = System.nanoTime();
        RunResult r = run(setup, RunOptions.DEFAULTS);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(5.0);
        assertThat(r.generator().usersStoppedAtDeadline()).isEqualTo(3);
        assertThat(r.stats().request("before").orElseThrow().stats().count()).isEqualTo(3);
        assertThat(r.stats().request("never")).isEmpty();
    }

    private static RunResult run(SimulationSetup setup, RunOptions options) {
        return new Runner(setup, NOWHERE, options, RunListener.NONE).run("test", "test", Map.of());
    }
}
