package dev.pgmux.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What pgmux logs and how ({@code log:}). Every setting applies on reload.
 *
 * @param format            text or JSON lines
 * @param level             the least severe level written; empty: the logging setup's own (INFO, or the
 *                          {@code PGMUX_LOG_LEVEL} environment variable)
 * @param logConnections    a line per successful login (PgBouncer's {@code log_connections})
 * @param logDisconnections a line per connection end, failed logins included (PgBouncer's
 *                          {@code log_disconnections})
 * @param statsPeriod       how often each pool with traffic gets a statistics line; zero: never
 * @param repeatInterval    a line that repeats (a storm of failed logins, a lost upstream seen by every
 *                          client) is written once per interval, with the count of the others; zero: every one
 */
public record LogConfig(LogFormat format, Optional<LogLevel> level, boolean logConnections, boolean logDisconnections,
                        Duration statsPeriod, Duration repeatInterval) {

    public static final LogFormat DEFAULT_FORMAT = LogFormat.TEXT;
    /** PgBouncer's defaults: both on. */
    public static final boolean DEFAULT_LOG_CONNECTIONS = false;
    public static final boolean DEFAULT_LOG_DISCONNECTIONS = false;
    /** PgBouncer's default stats_period. */
    public static final Duration DEFAULT_STATS_PERIOD = Duration.ofSeconds(60);
    public static final Duration DEFAULT_REPEAT_INTERVAL = Duration.ofSeconds(10);

    public LogConfig {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(statsPeriod, "statsPeriod");
        Objects.requireNonNull(repeatInterval, "repeatInterval");
    }

    public static LogConfig defaults() {
        return new LogConfig(DEFAULT_FORMAT, Optional.empty(), DEFAULT_LOG_CONNECTIONS, DEFAULT_LOG_DISCONNECTIONS,
                DEFAULT_STATS_PERIOD, DEFAULT_REPEAT_INTERVAL);
    }

    /** Whether the periodic statistics lines are on. */
    public boolean logStats() {
        return !statsPeriod.isZero();
    }

    public LogConfig withFormat(LogFormat format) {
        return new LogConfig(format, level, logConnections, logDisconnections, statsPeriod, repeatInterval);
    }

    public LogConfig withLevel(LogLevel level) {
        return new LogConfig(format, Optional.of(level), logConnections, logDisconnections, statsPeriod, repeatInterval);
    }

    public LogConfig withLogConnections(boolean on) {
        return new LogConfig(format, level, on, logDisconnections, statsPeriod, repeatInterval);
    }

    public LogConfig withLogDisconnections(boolean on) {
        return new LogConfig(format, level, logConnections, on, statsPeriod, repeatInterval);
    }

    public LogConfig withStatsPeriod(Duration period) {
        return new LogConfig(format, level, logConnections, logDisconnections, period, repeatInterval);
    }

    public LogConfig withRepeatInterval(Duration interval) {
        return new LogConfig(format, level, logConnections, logDisconnections, statsPeriod, interval);
    }

    /** The rules of the {@code log:} section. */
    static void validate(LogConfig log, Problems problems) {
        Duration period = log.statsPeriod();
        if (period.isNegative() || period.getNano() != 0) {
            problems.add("log.stats_period", "must be a whole number of seconds >= 0 (0 = no statistics lines), got "
                    + Durations.format(period));
        }
        if (log.repeatInterval().isNegative()) {
            problems.add("log.repeat_interval", "must be >= 0 (0 = write every repeat), got "
                    + Durations.format(log.repeatInterval()));
        }
    }
}
