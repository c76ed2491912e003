package dev.pgmux.loadtest.dsl;

import java.sql.Connection;
import java.sql.SQLException;

/** Preparation before the clock starts (creating tables, loading rows), on one connection to the target. Not measured. */
@FunctionalInterface
public interface SetupAction {
    void run(Connection connection) throws SQLException;
}
