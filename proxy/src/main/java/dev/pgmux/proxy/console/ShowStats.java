package dev.pgmux.proxy.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SHOW STATS, STATS_TOTALS and STATS_AVERAGES: per database, from {@link StatsSampler}. */
final class ShowStats {
    private ShowStats() {}

    static Result.Rows rows(ShowTable table, StatsSampler sampler) {
        List<List<Object>> rows = new ArrayList<>();
        for (Map.Entry<String, long[]> entry : sampler.totals().entrySet()) {
            long[] totals = entry.getValue();
            List<Object> row = new ArrayList<>();
            row.add(entry.getKey());
            if (table != ShowTable.STATS_AVERAGES) {
                add(row, totals);
            }
            if (table != ShowTable.STATS_TOTALS) {
                add(row, sampler.averages(entry.getKey(), totals));
            }
            rows.add(row);
        }
        return Result.Rows.of(table, rows);
    }

    private static void add(List<Object> row, long[] values) {
        for (long value : values) {
            row.add(value);
        }
    }
}
