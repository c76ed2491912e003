package dev.pgmux.proxy.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves the {@link LatencyHistogram}s as Prometheus histograms ({@code _bucket}, {@code _count}, {@code _sum}),
 * beside the Micrometer meters in the same scrape. Each histogram is one series of a family, by its labels.
 */
final class HistogramCollector implements MultiCollector {
    /** A histogram family: its Prometheus name (in seconds) and its help text. */
    record Family(String name, String help) {}

    private record Series(Family family, Labels labels) {}

    private final ConcurrentHashMap<Series, LatencyHistogram> series = new ConcurrentHashMap<>();

    void add(Family family, Labels labels, LatencyHistogram histogram) {
        series.put(new Series(family, labels), histogram);
    }

    void remove(Family family, Labels labels) {
        series.remove(new Series(family, labels));
    }

    @Override
    public MetricSnapshots collect() {
        Map<Family, HistogramSnapshot.Builder> families = new LinkedHashMap<>();
        series.forEach((key, histogram) -> {
            long[] counts = histogram.bucketCounts();
            double sum = histogram.sumNanos() / 1e9;
            families.computeIfAbsent(key.family(), f -> HistogramSnapshot.builder().name(f.name()).help(f.help()))
                    .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                            .labels(key.labels())
                            .classicHistogramBuckets(ClassicHistogramBuckets.of(LatencyHistogram.UPPER_BOUNDS_SECONDS,
                                    counts))
                            .sum(sum)
                            .build());
        });
        List<MetricSnapshot> snapshots = new ArrayList<>();
        families.values().forEach(builder -> snapshots.add(builder.build()));
        return new MetricSnapshots(snapshots);
    }
}
