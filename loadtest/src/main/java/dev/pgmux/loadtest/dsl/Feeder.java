package dev.pgmux.loadtest.dsl;

import java.util.Map;

/**
 * A source of records for {@link Step.Feed}: each call gives one record whose entries become session
 * attributes. Called concurrently by many users, so implementations are thread-safe. A feeder that has run
 * out throws {@link java.util.NoSuchElementException}; the user then fails and stops.
 */
@FunctionalInterface
public interface Feeder {
    Map<String, Object> next();
}
