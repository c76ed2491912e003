package dev.pgmux.loadtest.dsl;

/** A statement parameter, computed from the user's session when the statement runs. */
@FunctionalInterface
public interface Param {
    Object value(Session session);
}
