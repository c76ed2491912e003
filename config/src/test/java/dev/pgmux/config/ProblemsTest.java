package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProblemsTest {

    @Test
    void aProblemUnderAPlaceAlreadyReportedIsDropped() {
        Problems problems = new Problems();
        problems.add("tenants[0]", "must be a mapping, got a string");
        problems.add("tenants[0].id", "is required");
        problems.add("tenants[0]", "again");
        problems.add("tenants[1].id", "is required");
        problems.add("tenants[10].id", "is required");

        assertThat(problems.lines()).containsExactly(
                "tenants[0]: must be a mapping, got a string", "tenants[1].id: is required", "tenants[10].id: is required");
    }

    @Test
    void sortsBySectionThenByListPositionNumerically() {
        Problems problems = new Problems();
        problems.add("tenants[10].id", "x");
        problems.add("tenants[2].users[1].name", "x");
        problems.add("tenants[2].pool_size", "x");
        problems.add("listen.host", "x");
        problems.add("typo", "x");

        problems.sortBySection(List.of("listen", "tenants"));

        assertThat(problems.lines()).containsExactly(
                "typo: x", "listen.host: x", "tenants[2].pool_size: x", "tenants[2].users[1].name: x", "tenants[10].id: x");
    }
}
