package dev.pgmux.loadtest.dsl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

import static dev.pgmux.loadtest.dsl.Dsl.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DslTest {

    @Test
    void durationsAsPeopleWriteThem() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(Durations.parse("45")).isEqualTo(Duration.ofSeconds(45));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> Durations.parse("5 parsecs")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> Durations.parse("")).hasMessageContaining("not a duration");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.format(Duration.ofHours(1))).isEqualTo("1h");
    }

    @Test
    void scenariosAreImmutableBuilders() {
        Scenario base = scenario("s").connect();
        Scenario longer = base.query("q", "SELECT 1").disconnect();
        assertThat(base.steps()).hasSize(1);
        assertThat(longer.steps()).hasSize(3);
        assertThat(longer.steps().get(1)).isEqualTo(new Step.Query("q", "SELECT 1", null));
    }

    @Test
    void misuseIsRefusedWhenTheScenarioIsBuilt() {
        assertThatThrownBy(() -> transaction("t", connect())).hasMessageContaining("cannot contain connect");
        assertThatThrownBy(() -> transaction("t", transaction("u", query("q", "SELECT 1"))))
                .hasMessageContaining("cannot contain transaction");
        assertThatThrownBy(() -> query(" ", "SELECT 1")).hasMessageContaining("name");
        assertThatThrownBy(Dsl::forever).hasMessageContaining("at least one step");
        assertThatThrownBy(() -> pause(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("min <= max");
        assertThatThrownBy(() -> scenario("s").injectOpen()).hasMessageContaining("at least one step");
        assertThatThrownBy(() -> setUp(scenario("a").injectOpen(atOnceUsers(1)), scenario("a").injectOpen(atOnceUsers(1))))
                .hasMessageContaining("names must differ");
    }

    @Test
    void injectionDescriptionsReadLikeTheDsl() {
        assertThat(rampUsersPerSec(10).to(50).during(Duration.ofSeconds(30)).describe())
                .isEqualTo("rampUsersPerSec(10).to(50).during(30s)");
        assertThat(constantUsersPerSec(2.5).during(Duration.ofMinutes(1)).randomized().describe())
                .isEqualTo("constantUsersPerSec(2.5).during(1m).randomized()");
        Population p = scenario("s").injectClosed(rampConcurrentUsers(1).to(8).during(Duration.ofSeconds(10)),
                constantConcurrentUsers(8).during(Duration.ofSeconds(20)));
        assertThat(p.profile().duration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.describe()).isEqualTo("s: rampConcurrentUsers(1).to(8).during(10s), constantConcurrentUsers(8).during(20s)");
    }

    @Test
    void theLongestPopulationSetsTheInjectionLength() {
        SimulationSetup s = setUp(scenario("a").injectOpen(atOnceUsers(1), nothingFor(Duration.ofSeconds(5))),
                scenario("b").injectClosed(constantConcurrentUsers(2).during(Duration.ofSeconds(8))));
        assertThat(s.injectionDuration()).isEqualTo(Duration.ofSeconds(8));
        assertThat(s.driverOf(s.populations().get(0))).isEqualTo(jdbc());
        Population own = scenario("c").injectOpen(atOnceUsers(1)).driver(hikari(2, 3));
        assertThat(s.driverOf(own)).isEqualTo(hikari(2, 3));
    }

    @Test
    void assertionsDescribeThemselves() {
        assertThat(global().responseTime().percentile(99).lt(50).describe()).isEqualTo("global p99 < 50 ms");
        assertThat(details("select").failedRequests().percent().lte(0.5).describe()).isEqualTo("\"select\" errors <= 0.5%");
        assertThat(forAll().requestsPerSec().gt(100).describe()).isEqualTo("each request throughput > 100 req/s");
        assertThatThrownBy(() -> global().responseTime().percentile(42)).hasMessageContaining("50, 75, 95, 99, 99.9");
    }

    @Test
    void feedersWalkTheirRecordsAsAsked() {
        List<Map<String, Object>> records = List.of(Map.of("id", 1), Map.of("id", 2), Map.of("id", 3));
        Feeder circular = Feeders.list(records, Feeders.Strategy.CIRCULAR);
        assertThat(List.of(circular.next(), circular.next(), circular.next(), circular.next()))
                .extracting(m -> m.get("id")).containsExactly(1, 2, 3, 1);
        Feeder queue = Feeders.list(records, Feeders.Strategy.QUEUE);
        queue.next();
        queue.next();
        queue.next();
        assertThatThrownBy(queue::next).isInstanceOf(NoSuchElementException.class).hasMessageContaining("exhausted");
        Feeder random = Feeders.list(records, Feeders.Strategy.RANDOM);
        Set<Object> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            seen.add(random.next().get("id"));
        }
        assertThat(seen).containsExactlyInAnyOrder(1, 2, 3);
        Feeder ints = Feeders.randomInt("aid", 5, 7);
        for (int i = 0; i < 100; i++) {
            assertThat((Integer) ints.next().get("aid")).isBetween(5, 7);
        }
    }

    @Test
    void csvFeedersReadAHeaderAndQuotedFields(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("users.csv");
        Files.writeString(file, "name,email\nada,\"ada@example.com\"\n\"o\"\"brien\",\"a,b\"\n");
        Feeder f = Feeders.csv(file, Feeders.Strategy.QUEUE);
        assertThat(f.next()).containsEntry("name", "ada").containsEntry("email", "ada@example.com");
        assertThat(f.next()).containsEntry("name", "o\"brien").containsEntry("email", "a,b");
        Files.writeString(file, "a,b\n1\n");
        assertThatThrownBy(() -> Feeders.csv(file, Feeders.Strategy.QUEUE)).hasMessageContaining("line 2 has 1 fields");
    }

    @Test
    void sessionsGiveTypedAttributesAndSayWhatIsMissing() {
        Session s = new Session(3, "x").set("n", 42).set("t", "17");
        assertThat(s.getInt("n")).isEqualTo(42);
        assertThat(s.getLong("t")).isEqualTo(17L);
        assertThat(attr("n").value(s)).isEqualTo(42);
        assertThat(value("v").value(s)).isEqualTo("v");
        assertThatThrownBy(() -> s.get("nope")).hasMessageContaining("no session attribute \"nope\"");
    }

    @Test
    void contextParametersAreTyped() {
        SimulationContext ctx = new SimulationContext(Map.of("users", "12", "duration", "1m", "rate", "2.5"));
        assertThat(ctx.intParam("users", 1)).isEqualTo(12);
        assertThat(ctx.doubleParam("rate", 1)).isEqualTo(2.5);
        assertThat(ctx.duration()).isEqualTo(Duration.ofMinutes(1));
        assertThat(ctx.intParam("absent", 7)).isEqualTo(7);
        assertThatThrownBy(() -> new SimulationContext(Map.of("users", "many")).intParam("users", 1))
                .hasMessageContaining("parameter users");
    }
}
