package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code log:} section: format, level, connection lines, statistics lines, repeats. */
class LogConfigTest {

    @Test
    void defaultsAreTextWithoutConnectionLinesAndWithAStatsLineAMinute() {
        LogConfig log = Yamls.parse(MINIMAL).log();

        assertThat(log).isEqualTo(LogConfig.defaults());
        assertThat(log.format()).isEqualTo(LogFormat.TEXT);
        assertThat(log.level()).isEmpty();
        assertThat(log.logConnections()).isFalse();
        assertThat(log.logDisconnections()).isFalse();
        assertThat(log.statsPeriod()).isEqualTo(Duration.ofSeconds(60));
        assertThat(log.logStats()).isTrue();
        assertThat(log.repeatInterval()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void readsEveryKey() {
        LogConfig log = ConfigLoader.parse("""
                log:
                  format: JSON
                  level: ${LEVEL}
                  log_connections: true
                  log_disconnections: "true"
                  stats_period: 0
                  repeat_interval: 500ms
                """ + MINIMAL, Map.of("LEVEL", "debug")).log();

        assertThat(log).isEqualTo(new LogConfig(LogFormat.JSON, Optional.of(LogLevel.DEBUG), true, true,
                Duration.ZERO, Duration.ofMillis(500)));
        assertThat(log.logStats()).isFalse();
    }

    @Test
    void anEmptyLevelMeansTheLoggingSetupsOwn() {
        assertThat(ConfigLoader.parse("log: {level: '${LEVEL:-}'}\n" + MINIMAL, Map.of()).log().level()).isEmpty();
    }

    @Test
    void problemsNameTheirPath() {
        assertThat(problems("log: {format: xml}\n" + MINIMAL))
                .containsExactly("log.format: must be one of text, json, got \"xml\"");
        assertThat(problems("log: {level: verbose}\n" + MINIMAL))
                .containsExactly("log.level: must be one of error, warn, info, debug, trace, got \"verbose\"");
        assertThat(problems("log: {log_connections: yes}\n" + MINIMAL))
                .containsExactly("log.log_connections: must be true or false, got \"yes\"");
        assertThat(problems("log: {stats_period: 1500ms}\n" + MINIMAL))
                .containsExactly("log.stats_period: must be a whole number of seconds >= 0 (0 = no statistics lines), "
                        + "got 1500ms");
        assertThat(problems("log: {stats_period: -1s, repeat_interval: -5s}\n" + MINIMAL)).containsExactly(
                "log.stats_period: must be a whole number of seconds >= 0 (0 = no statistics lines), got -1s",
                "log.repeat_interval: must be >= 0 (0 = write every repeat), got -5s");
        assertThat(problems("log: {colour: true}\n" + MINIMAL)).containsExactly("log.colour: unknown key (known keys: "
                + "format, level, log_connections, log_disconnections, stats_period, repeat_interval)");
        assertThat(problems("log: [text]\n" + MINIMAL)).containsExactly("log: must be a mapping, got a list");
    }

    @Test
    void configurationsBuiltInCodeAreCheckedToo() {
        PgmuxConfig config = PgmuxConfig.of(TenantConfig.of("a", UpstreamConfig.of("db", 5432), new UserConfig("app", "pw")));

        assertThatThrownBy(() -> config.withLog(LogConfig.defaults().withStatsPeriod(Duration.ofMillis(10))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("log.stats_period: must be a whole number of seconds");
    }

    @Test
    void aReloadNamesEachChangedLogSetting() {
        PgmuxConfig before = Yamls.parse(MINIMAL);
        PgmuxConfig after = before.withLog(LogConfig.defaults().withFormat(LogFormat.JSON).withLevel(LogLevel.WARN)
                .withLogConnections(true).withStatsPeriod(Duration.ofSeconds(15))
                .withRepeatInterval(Duration.ZERO));

        ConfigChanges changes = ConfigChanges.between(before, after);

        assertThat(changes.changes()).containsExactly(
                "log.format: text -> json",
                "log.level: default -> warn",
                "log.log_connections: false -> true",
                "log.stats_period: 1m -> 15s",
                "log.repeat_interval: 10s -> 0s");
        assertThat(changes.needRestart()).isEmpty();
    }
}
