package dev.pgmux.loadtest.stats;

import java.util.Map;

/** How often one error occurred in the measured window, and in which requests. */
public record ErrorSummary(ErrorKey key, long count, Map<String, Long> byRequest) {
}
