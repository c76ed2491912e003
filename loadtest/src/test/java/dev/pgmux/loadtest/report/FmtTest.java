package dev.pgmux.loadtest.report;

import dev.pgmux.loadtest.dsl.Assertion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FmtTest {

    @Test
    void numbersKeepThreeSignificantDigitsOrTheirThousands() {
        assertThat(Fmt.ms(0.4123)).isEqualTo("0.412");
        assertThat(Fmt.ms(4.123)).isEqualTo("4.12");
        assertThat(Fmt.ms(41.23)).isEqualTo("41.2");
        assertThat(Fmt.ms(4123)).isEqualTo("4,123");
        assertThat(Fmt.count(1234567)).isEqualTo("1,234,567");
        assertThat(Fmt.rate(12.34)).isEqualTo("12.3");
        assertThat(Fmt.rate(1234.5)).isEqualTo("1,235");
        assertThat(Fmt.percent(0.004)).isEqualTo("<0.01%");
        assertThat(Fmt.clock(75)).isEqualTo("1:15");
        assertThat(Fmt.clock(3725)).isEqualTo("1:02:05");
        assertThat(Fmt.axis(0.0025)).isEqualTo("0.0025");
        assertThat(Fmt.axis(0.1 + 0.2)).isEqualTo("0.3");
        assertThat(Fmt.axis(12500)).isEqualTo("12,500");
        assertThat(Fmt.metric(Assertion.Metric.P99, 12.345)).isEqualTo("12.3 ms");
        assertThat(Fmt.metric(Assertion.Metric.ERROR_PERCENT, 0.5)).isEqualTo("0.50%");
        assertThat(Fmt.metric(Assertion.Metric.REQUESTS_PER_SEC, 812)).isEqualTo("812 req/s");
        assertThat(Fmt.metric(Assertion.Metric.MAX, Double.NaN)).isEqualTo("n/a");
    }
}
