package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.LogCapture.fields;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgmux.proxy.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** The lines {@link Repeats} writes for a storm: the first, then how many more, at the first's level. */
class RepeatsTest {
    private static final String LOGGER = "pgmux.test.repeats";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final AtomicLong clock = new AtomicLong();
    private Duration interval = Duration.ofSeconds(10);
    private final Repeats repeats = new Repeats(() -> interval, clock::get);

    @Test
    void aStormIsItsFirstLineAndACountOnceTheIntervalIsOver() {
        try (LogCapture capture = LogCapture.of(LOGGER, Level.INFO)) {
            for (int i = 1; i <= 50; i++) {
                repeats.warn(log, "upstream db:5432 unreachable", "upstream {} unreachable: attempt {}", "db:5432", i);
                clock.addAndGet(Duration.ofMillis(100).toNanos());
            }
            assertThat(capture.text()).isEqualTo("upstream db:5432 unreachable: attempt 1\n");

            repeats.flush(); // 5 s after the first: not yet
            assertThat(capture.events()).hasSize(1);
            clock.set(Duration.ofSeconds(10).toNanos());
            repeats.flush();

            ILoggingEvent summary = capture.events().get(1);
            assertThat(summary.getFormattedMessage()).isEqualTo("upstream db:5432 unreachable: 49 more like this in 10 s");
            assertThat(summary.getLevel()).isEqualTo(Level.WARN);
            assertThat(fields(summary)).containsEntry("repeats", "49");
            repeats.flush();
            assertThat(capture.events()).as("said once").hasSize(2);
        }
    }

    @Test
    void theNextLineAfterTheIntervalComesAfterTheCountOfTheLastOne() {
        try (LogCapture capture = LogCapture.of(LOGGER, Level.INFO)) {
            repeats.info(log, "k", "line {}", 1);
            repeats.info(log, "k", "line {}", 2);
            clock.set(Duration.ofSeconds(12).toNanos());
            repeats.info(log, "k", "line {}", 3);

            assertThat(capture.text()).isEqualTo("line 1\nk: 1 more like this in 12 s\nline 3\n");
        }
    }

    @Test
    void aZeroIntervalWritesEveryLineAndReloadingToItFlushesTheCounts() {
        try (LogCapture capture = LogCapture.of(LOGGER, Level.INFO)) {
            repeats.info(log, "k", "line {}", 1);
            repeats.info(log, "k", "line {}", 2);
            interval = Duration.ZERO;
            repeats.flush();
            repeats.info(log, "k", "line {}", 3);
            repeats.info(log, "k", "line {}", 4);

            assertThat(capture.text()).isEqualTo("line 1\nk: 1 more like this in 1 s\nline 3\nline 4\n");
        }
    }

    @Test
    void nothingIsCountedForALevelThatIsOff() {
        try (LogCapture capture = LogCapture.of(LOGGER, Level.WARN)) {
            repeats.info(log, "k", "line {}", 1);
            repeats.info(log, "k", "line {}", 2);
            clock.set(Duration.ofSeconds(30).toNanos());
            repeats.flushAll();

            assertThat(capture.events()).isEmpty();
        }
    }
}
