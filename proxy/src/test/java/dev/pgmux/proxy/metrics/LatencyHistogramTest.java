package dev.pgmux.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import org.junit.jupiter.api.Test;

/** Buckets are upper-inclusive, as Prometheus's {@code le} says; the scrape shows them cumulative. */
class LatencyHistogramTest {

    @Test
    void aDurationGoesIntoTheFirstBucketWhoseBoundItDoesNotExceed() {
        LatencyHistogram histogram = new LatencyHistogram();
        histogram.record(100_000);        // exactly 100 us: the first bucket
        histogram.record(100_001);        // just above: the second
        histogram.record(-5);             // a clock step: counted as zero
        histogram.record(31_000_000_000L); // beyond 30 s: +Inf
        long[] counts = histogram.bucketCounts();
        assertThat(counts[0]).isEqualTo(2);
        assertThat(counts[1]).isEqualTo(1);
        assertThat(counts[counts.length - 1]).isEqualTo(1);
        assertThat(histogram.count()).isEqualTo(4);
        assertThat(histogram.sumNanos()).isEqualTo(100_000 + 100_001 + 31_000_000_000L);
    }

    @Test
    void theScrapeShowsCumulativeBucketsCountAndSumInSeconds() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HistogramCollector collector = new HistogramCollector();
        registry.getPrometheusRegistry().register(collector);
        LatencyHistogram histogram = new LatencyHistogram();
        HistogramCollector.Family family = new HistogramCollector.Family("test_wait_seconds", "waits");
        collector.add(family, Labels.of("pool", "a"), histogram);
        histogram.record(400_000);   // <= 500 us
        histogram.record(1_500_000); // <= 2 ms
        String text = registry.scrape();
        assertThat(text).contains("# TYPE test_wait_seconds histogram")
                .contains("test_wait_seconds_bucket{pool=\"a\",le=\"2.5E-4\"} 0")
                .contains("test_wait_seconds_bucket{pool=\"a\",le=\"5.0E-4\"} 1")
                .contains("test_wait_seconds_bucket{pool=\"a\",le=\"0.002\"} 2")
                .contains("test_wait_seconds_bucket{pool=\"a\",le=\"+Inf\"} 2")
                .contains("test_wait_seconds_count{pool=\"a\"} 2")
                .contains("test_wait_seconds_sum{pool=\"a\"} 0.0019");
        collector.remove(family, Labels.of("pool", "a"));
        assertThat(registry.scrape()).doesNotContain("test_wait_seconds");
    }
}
