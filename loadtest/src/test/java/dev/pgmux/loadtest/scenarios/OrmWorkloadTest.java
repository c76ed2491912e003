package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Driver;
import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.dsl.Step;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The orm scenario's mix and its Zipf weights, and the random switch that draws from it (no database). */
class OrmWorkloadTest {

    @Test
    void zipfWeightsFallAsOneOverTheRank() {
        double[] w = OrmWorkload.zipf(27, 1.0);
        assertThat(java.util.Arrays.stream(w).sum()).isCloseTo(1.0, within(1e-12));
        assertThat(w[0] / w[1]).isCloseTo(2.0, within(1e-12));
        assertThat(w[0] / w[26]).isCloseTo(27.0, within(1e-9));
        assertThat(w[0] + w[1] + w[2]).as("the three most frequent requests").isBetween(0.45, 0.48);
        assertThat(OrmWorkload.zipf(4, 0)).containsExactly(0.25, 0.25, 0.25, 0.25);
        assertThatThrownBy(() -> OrmWorkload.zipf(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OrmWorkload.zipf(3, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theMixHasTwentySevenRequestsWithNamesOfTheirOwn() {
        List<Step> ranked = OrmWorkload.ranked(PgbenchShape.of(1));
        assertThat(ranked).hasSize(OrmWorkload.CHOICES);
        assertThat(new HashSet<>(ranked.stream().map(OrmWorkload::name).toList())).hasSize(OrmWorkload.CHOICES);
        assertThat(OrmWorkload.name(ranked.get(0))).isEqualTo("account by id");
        long transactions = ranked.stream().filter(s -> s instanceof Step.Transaction).count();
        assertThat(transactions).isEqualTo(2);
    }

    @Test
    void aRandomSwitchDrawsInProportionToTheWeights() {
        Step a = Dsl.exec("a", (c, s) -> { });
        Step b = Dsl.exec("b", (c, s) -> { });
        Step.RandomSwitch sw = (Step.RandomSwitch) Dsl.randomSwitch(Dsl.choice(3, a), Dsl.choice(1, b));
        assertThat(sw.pick(0.0)).isSameAs(a);
        assertThat(sw.pick(0.7499)).isSameAs(a);
        assertThat(sw.pick(0.75)).isSameAs(b);
        assertThat(sw.pick(0.9999999)).isSameAs(b);

        Step.RandomSwitch mix = (Step.RandomSwitch) OrmWorkload.step(PgbenchShape.of(1), 1.0);
        SplittableRandom random = new SplittableRandom(7);
        Map<String, Integer> counts = new java.util.HashMap<>();
        int draws = 200_000;
        for (int i = 0; i < draws; i++) {
            counts.merge(OrmWorkload.name(mix.pick(random.nextDouble())), 1, Integer::sum);
        }
        double[] w = OrmWorkload.zipf(27, 1.0);
        List<Step> ranked = OrmWorkload.ranked(PgbenchShape.of(1));
        for (int k = 0; k < ranked.size(); k++) {
            double share = counts.getOrDefault(OrmWorkload.name(ranked.get(k)), 0) / (double) draws;
            assertThat(share).as("rank " + (k + 1)).isCloseTo(w[k], within(0.005));
        }
        assertThatThrownBy(() -> Dsl.randomSwitch(Dsl.choice(0, a))).hasMessageContaining("positive weight");
        assertThatThrownBy(() -> Dsl.randomSwitch(List.of())).hasMessageContaining("at least one choice");
    }

    @Test
    void theScenarioSendsUnnamedStatementsUnlessToldOtherwise() {
        SimulationSetup setup = BuiltInScenario.byId("orm").setUp(new SimulationContext(Map.of("duration", "2s")));
        assertThat(((Driver.Jdbc) setup.driver()).properties()).containsEntry("prepareThreshold", "0");
        SimulationSetup five = BuiltInScenario.byId("orm").setUp(new SimulationContext(Map.of("prepare-threshold", "5")));
        assertThat(((Driver.Jdbc) five.driver()).properties()).containsEntry("prepareThreshold", "5");
        assertThat(BuiltInScenario.byId("orm").connectionsHeld(new SimulationContext(Map.of("users", "6")))).isEqualTo(6);
    }

    @Test
    void theShapeIsPgbenchs() {
        PgbenchShape s = PgbenchShape.of(2);
        assertThat(s.accounts()).isEqualTo(200_000);
        assertThat(s.tellers()).isEqualTo(20);
        assertThat(s.branchOfAccount(100_000)).isEqualTo(1);
        assertThat(s.branchOfAccount(100_001)).isEqualTo(2);
        assertThat(s.branchOfTeller(11)).isEqualTo(2);
        assertThat(s.firstTellerOf(2)).isEqualTo(11);
        assertThat(s.firstAccountOf(2)).isEqualTo(100_001);
    }
}
