package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.LogCapture.field;
import static dev.pgmux.proxy.testing.LogCapture.fields;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.LogCapture;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The statistics line of each pool with traffic, every {@code log.stats_period}, with PgBouncer's figures; none
 * for a pool without traffic in the period, none at all with a period of 0.
 */
@Timeout(120)
class StatsLogTest {
    private static final TestRole BUSY = TestPostgres.SCRAM;
    private static final TestRole QUIET = TestPostgres.PLAIN;

    @Test
    void everyPeriodEachPoolWithTrafficGetsALineWithPgBouncersFigures() throws Exception {
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withLog(LogConfig.defaults().withStatsPeriod(Duration.ofSeconds(1)));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogCapture log = LogCapture.of(StatsLog.LOGGER);
             Connection busy = Port.TRANSACTION.connect(pgmux, BUSY)) {
            try (Connection quiet = Port.SESSION.connect(pgmux, QUIET)) {
                text(quiet, "SELECT 1");
            }
            pgmux.awaitIdle(QUIET, 1, Wait.DEFAULT);
            log.await("a line for the quiet pool", of(QUIET));
            // Traffic on the busy pool through the next periods; the quiet pool's last bytes may fall into one more.
            queryUntil(busy, log, of(BUSY), 2);
            int quietLines = log.events(of(QUIET)).size();
            queryUntil(busy, log, of(BUSY), 4);
            assertThat(log.events(of(QUIET))).as("no line for a period without traffic").hasSize(quietLines);

            ILoggingEvent line = log.events(of(BUSY)).get(2);
            assertThat(line.getLevel()).isEqualTo(Level.INFO);
            assertThat(line.getLoggerName()).isEqualTo("pgmux.stats");
            Map<String, String> f = fields(line);
            assertThat(f).containsEntry("event", "stats").containsEntry("tenant", "acme")
                    .containsEntry("database", "postgres").containsEntry("user", BUSY.name());
            assertThat(Long.parseLong(f.get("xacts_per_s"))).isPositive();
            assertThat(Long.parseLong(f.get("queries_per_s"))).isPositive();
            assertThat(Long.parseLong(f.get("bytes_in_per_s"))).isPositive();
            assertThat(Long.parseLong(f.get("bytes_out_per_s"))).isPositive();
            assertThat(Long.parseLong(f.get("xact_us"))).isPositive();
            assertThat(Long.parseLong(f.get("query_us"))).isPositive();
            assertThat(line.getFormattedMessage()).isEqualTo("pool acme/postgres/" + BUSY.name() + " stats: "
                    + f.get("xacts_per_s") + " xacts/s, " + f.get("queries_per_s") + " queries/s, in "
                    + f.get("bytes_in_per_s") + " B/s, out " + f.get("bytes_out_per_s") + " B/s, xact " + f.get("xact_us")
                    + " us, query " + f.get("query_us") + " us, wait " + f.get("wait_us") + " us");

            // A reload to 0 turns the lines off.
            pgmux.server().reload(config.withLog(LogConfig.defaults().withStatsPeriod(Duration.ZERO)));
            int before = log.events().size();
            long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            while (System.nanoTime() < until) {
                text(busy, "SELECT 1"); // traffic through more than two former periods
            }
            assertThat(log.events()).as("stats_period: 0").hasSize(before);
        }
    }

    private static Predicate<ILoggingEvent> of(TestRole role) {
        return field("user", role.name());
    }

    /** Runs queries on {@code c} until the capture holds {@code count} lines that match. */
    private static void queryUntil(Connection c, LogCapture log, Predicate<ILoggingEvent> which, int count) {
        Wait.until(count + " lines", () -> {
            text(c, "SELECT 1");
            return log.events(which).size() >= count;
        }, log::text);
    }
}
