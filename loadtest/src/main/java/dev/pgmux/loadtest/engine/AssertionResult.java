package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.Assertion;

/** One checked assertion: what was asked, what was measured ({@code NaN} if nothing was), and whether it held. */
public record AssertionResult(Assertion assertion, String description, double actual, boolean passed) {
}
