package dev.pgmux.loadtest.stats;

import java.util.Objects;

/**
 * How failed requests are grouped: the SQLSTATE (null when the failure had none, e.g. a feeder running dry)
 * and the primary message, without detail lines that would split one cause into many rows.
 */
public record ErrorKey(String sqlState, String message) {
    private static final int MAX_MESSAGE = 240;

    public ErrorKey {
        Objects.requireNonNull(message, "message");
        String firstLine = message.strip().lines().findFirst().orElse("");
        message = firstLine.length() > MAX_MESSAGE ? firstLine.substring(0, MAX_MESSAGE) + "…" : firstLine;
    }

    /** The SQLSTATE, or "-" when there is none. */
    public String sqlStateOrDash() {
        return sqlState == null || sqlState.isEmpty() ? "-" : sqlState;
    }

    @Override
    public String toString() {
        return sqlStateOrDash() + " " + message;
    }
}
