package dev.pgmux.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {

    @ParameterizedTest
    @CsvSource({
            "500ms, 500",
            "30s, 30000",
            "10m, 600000",
            "1h, 3600000",
            "250, 250",
            "0, 0",
            "' 15 s ', 15000",
            "-5s, -5000"})
    void parsesDurations(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5 parsecs", "1.5s", "10sec", "1d", "s", "PT10S", "99999999999999999999h", "9223372036854775807h"})
    void refusesWhatIsNotADuration(String text) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Durations.parse(text))
                .withMessage("not a duration: \"" + text + "\" (use e.g. 500ms, 30s, 10m, 1h)");
    }

    @ParameterizedTest
    @CsvSource({"500, 500ms", "30000, 30s", "600000, 10m", "7200000, 2h", "90000, 90s", "0, 0s", "-1000, -1s"})
    void formatsDurationsInTheLargestExactUnit(long millis, String text) {
        assertThat(Durations.format(Duration.ofMillis(millis))).isEqualTo(text);
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @CsvSource({
            "8192, 8192",
            "512B, 512",
            "64kB, 65536",
            "64KB, 65536",
            "16MB, 16777216",
            "1GB, 1073741824",
            "' 2 MB ', 2097152"})
    void parsesSizes(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "16 MiB", "1.5MB", "-1", "16mb", "1TB", "MB", "99999999999GB"})
    void refusesWhatIsNotASize(String text) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Sizes.parse(text))
                .withMessage("not a size: \"" + text + "\" (use e.g. 8192, 64kB, 16MB, 1GB)");
    }

    @ParameterizedTest
    @CsvSource({"10000, 10000", "16777216, 16MB", "1073741824, 1GB", "3072, 3kB", "0, 0", "1025, 1025"})
    void formatsSizesInTheLargestExactUnit(long bytes, String text) {
        assertThat(Sizes.format(bytes)).isEqualTo(text);
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @Test
    void aBadSizeInTheFileIsReportedUnderItsPath() {
        assertThat(Yamls.problems(Yamls.topWith("limits: {max_frame_size: 16 MiB}"))).containsExactly(
                "limits.max_frame_size: not a size: \"16 MiB\" (use e.g. 8192, 64kB, 16MB, 1GB)");
    }

    @Test
    void aPlainNumberInTheFileIsBytesOrMilliseconds() {
        PgmuxConfig config = Yamls.parse(Yamls.topWith("limits: {max_frame_size: 65536, login_timeout: 1500}"));

        assertThat(config.limits().maxFrameSize()).isEqualTo(65536);
        assertThat(config.limits().loginTimeout()).isEqualTo(Duration.ofMillis(1500));
    }
}
