package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.OpenInjection;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static dev.pgmux.loadtest.dsl.Dsl.atOnceUsers;
import static dev.pgmux.loadtest.dsl.Dsl.constantUsersPerSec;
import static dev.pgmux.loadtest.dsl.Dsl.nothingFor;
import static dev.pgmux.loadtest.dsl.Dsl.rampUsers;
import static dev.pgmux.loadtest.dsl.Dsl.rampUsersPerSec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The open-model schedule is computed before the run, so the injection profiles are checked exactly here. */
class ScheduleTest {
    private static final long S = 1_000_000_000L;

    @Test
    void atOnceUsersStartTogetherAtTheStart() {
        assertThat(Schedule.startOffsets(List.of(atOnceUsers(4)), 1)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void rampUsersAreEvenlySpreadOverTheDuration() {
        long[] t = Schedule.startOffsets(List.of(rampUsers(10).during(Duration.ofSeconds(5))), 1);
        assertThat(t).hasSize(10);
        for (int i = 0; i < 10; i++) {
            assertThat(t[i]).isEqualTo(i * S / 2); // one every 0.5 s
        }
    }

    @Test
    void constantUsersPerSecGivesTheRateInEverySecond() {
        long[] t = Schedule.startOffsets(List.of(constantUsersPerSec(40).during(Duration.ofSeconds(5))), 1);
        assertThat(t).hasSize(200);
        assertThat(perSecond(t, 5)).containsOnly(40);
        assertThat(t[1] - t[0]).isEqualTo(S / 40);
        assertThat(t[t.length - 1]).isLessThan(5 * S);
    }

    @Test
    void fractionalRatesRoundTheTotalAndKeepTheSpacing() {
        long[] t = Schedule.startOffsets(List.of(constantUsersPerSec(2.5).during(Duration.ofSeconds(3))), 1);
        assertThat(t).hasSize(8); // 7.5 rounds to 8, all inside the 3 s
        assertThat(t[1]).isEqualTo(400_000_000L);
        assertThat(t[7]).isLessThan(3 * S);
    }

    @Test
    void randomizedConstantRateKeepsTheCountAndRoughlyTheRate() {
        long[] t = Schedule.startOffsets(List.of(constantUsersPerSec(100).during(Duration.ofSeconds(10)).randomized()), 42);
        assertThat(t).hasSize(1000).isSorted();
        // Poisson arrivals: 100 per second on average; each second within 4 standard deviations (sqrt(100) = 10)
        for (int n : perSecond(t, 10)) {
            assertThat(n).isBetween(60, 140);
        }
        assertThat(Schedule.startOffsets(List.of(constantUsersPerSec(100).during(Duration.ofSeconds(10)).randomized()), 42))
                .as("same seed, same schedule").containsExactly(t);
    }

    @Test
    void rampUsersPerSecGoesLinearlyFromOneRateToTheOther() {
        long[] t = Schedule.startOffsets(List.of(rampUsersPerSec(10).to(50).during(Duration.ofSeconds(10))), 1);
        assertThat(t).hasSize(300).isSorted(); // (10 + 50) / 2 * 10
        int[] counts = perSecond(t, 10);
        // the rate in second k is 10 + 4 (k + 0.5): 12, 16, ..., 48 (rounding moves at most one user between seconds)
        for (int k = 0; k < 10; k++) {
            assertThat(counts[k]).as("second %d", k).isCloseTo((int) Math.round(12 + 4 * k), within(1));
        }
        assertThat(t[t.length - 1]).isLessThan(10 * S);
    }

    @Test
    void rampUsersPerSecFromZero() {
        long[] t = Schedule.startOffsets(List.of(rampUsersPerSec(0).to(20).during(Duration.ofSeconds(4))), 1);
        assertThat(t).hasSize(40);
        assertThat(t[0]).isZero();
        int[] counts = perSecond(t, 4);
        assertThat(counts[0]).isCloseTo(3, within(1)); // 2.5 expected in the first second
        assertThat(counts[3]).isCloseTo(18, within(1)); // 17.5 in the last
    }

    @Test
    void stepsFollowEachOther() {
        List<OpenInjection> steps = List.of(atOnceUsers(2), nothingFor(Duration.ofSeconds(2)),
                rampUsers(2).during(Duration.ofSeconds(2)), constantUsersPerSec(1).during(Duration.ofSeconds(2)));
        long[] t = Schedule.startOffsets(steps, 1);
        assertThat(t).containsExactly(0, 0, 2 * S, 3 * S, 4 * S, 5 * S);
    }

    @Test
    void absurdUserCountsAreRefused() {
        assertThatThrownBy(() -> Schedule.startOffsets(List.of(constantUsersPerSec(1_000_000).during(Duration.ofHours(1))), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
    }

    @Test
    void inverseCumulativeSolvesTheRamp() {
        // a = 0, b = 10 over 10 s: count(t) = t^2 / 2, so 50 users by t = 10
        assertThat(Schedule.inverseCumulative(0, 10, 10, 50)).isCloseTo(10, within(1e-9));
        assertThat(Schedule.inverseCumulative(0, 10, 10, 8)).isCloseTo(4, within(1e-9));
        assertThat(Schedule.inverseCumulative(5, 5, 10, 20)).isCloseTo(4, within(1e-9));
    }

    static int[] perSecond(long[] offsets, int seconds) {
        int[] counts = new int[seconds];
        Arrays.stream(offsets).forEach(o -> counts[(int) (o / S)]++);
        return counts;
    }
}
