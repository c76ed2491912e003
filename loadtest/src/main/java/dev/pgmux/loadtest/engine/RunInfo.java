package dev.pgmux.loadtest.engine;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What was run, for reports: names, target (without password), when, and every setting that shaped it.
 *
 * @param configuration ordered key/value pairs shown in the report's configuration table
 */
public record RunInfo(String name, String simulation, String target, Instant startedAt, double plannedSeconds,
                      double warmupSeconds, List<String> populations, Map<String, String> configuration) {
}
