package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.ClosedInjection;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.pgmux.loadtest.dsl.Dsl.constantConcurrentUsers;
import static dev.pgmux.loadtest.dsl.Dsl.rampConcurrentUsers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClosedInjectionTest {
    private static final long S = 1_000_000_000L;

    @Test
    void constantConcurrencyIsTheSameThroughout() {
        ClosedInjection c = constantConcurrentUsers(7).during(Duration.ofSeconds(3));
        assertThat(c.target(0)).isEqualTo(7);
        assertThat(c.target(3 * S - 1)).isEqualTo(7);
        assertThat(c.duration()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void rampConcurrencyMovesLinearly() {
        ClosedInjection r = rampConcurrentUsers(0).to(10).during(Duration.ofSeconds(10));
        assertThat(r.target(0)).isZero();
        assertThat(r.target(5 * S)).isEqualTo(5);
        assertThat(r.target(10 * S)).isEqualTo(10);
        assertThat(rampConcurrentUsers(10).to(2).during(Duration.ofSeconds(4)).target(2 * S)).isEqualTo(6);
    }

    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> constantConcurrentUsers(-1).during(Duration.ofSeconds(1)))
                .hasMessageContaining("users >= 0");
        assertThatThrownBy(() -> constantConcurrentUsers(1).during(Duration.ZERO)).hasMessageContaining("duration > 0");
    }
}
