package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * A backend terminated by an administrator (pg_terminate_backend), idle or inside a client's transaction:
 * the pool forgets it at once, only the client that was using it hears of it, with an error rather than
 * silence, and the next statements get a fresh server.
 */
@Timeout(60)
class BackendTerminatedTest {
    private static final TestRole ROLE = TestPostgres.PLAIN;

    @ParameterizedTest
    @EnumSource(Port.class)
    void anIdleServerTerminatedIsReplacedOrReported(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2));
             Connection c = port.connect(pgmux, ROLE); Connection bystander = port.connect(pgmux, ROLE)) {
            int pid = pid(c);
            terminate(pid);
            Wait.until("the pool forgets the terminated server", () -> pgmux.pool(ROLE).orElseThrow().servers().stream()
                    .noneMatch(s -> s.backendKey() != null && s.backendKey().processId() == pid));
            if (port == Port.SESSION) {
                // The client's own server is gone: it is told so, as by Postgres, and its connection ends.
                SQLException e = catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 1"));
                assertThat((Object) e).as("a statement on the terminated session").isNotNull();
                assertThat(e.getSQLState()).as("SQLSTATE of %s", e).matches("57P01|08006|08003");
            } else {
                // Between transactions the client held no server: it notices nothing.
                assertThat(pid(c)).as("the next statement's server").isNotEqualTo(pid);
            }
            assertThat(text(bystander, "SELECT 'untouched'")).isEqualTo("untouched");
            try (Connection next = port.connect(pgmux, ROLE)) {
                assertThat(text(next, "SELECT 'fresh'")).isEqualTo("fresh");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aServerTerminatedInsideATransactionEndsOnlyThatClientWithAnError(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2));
             Connection c = port.connect(pgmux, ROLE); Connection bystander = port.connect(pgmux, ROLE)) {
            c.setAutoCommit(false);
            int pid = pid(c); // inside the transaction: this server is the client's until it ends
            bystander.setAutoCommit(false);
            assertThat(pid(bystander)).isNotEqualTo(pid);
            terminate(pid);
            SQLException e = catchThrowableOfType(SQLException.class, () -> text(c, "SELECT 1"));
            assertThat((Object) e).as("the next statement of the transaction whose server was terminated").isNotNull();
            assertThat(e.getSQLState()).as("SQLSTATE of %s", e).matches("57P01|08006|08003");
            assertThat(text(bystander, "SELECT 'untouched'")).isEqualTo("untouched");
            bystander.commit();
            Wait.until("the terminated server gone from the pool", () -> pgmux.stats(ROLE).open() <= 1,
                    () -> String.valueOf(pgmux.stats(ROLE)));
            try (Connection next = port.connect(pgmux, ROLE)) {
                assertThat(text(next, "SELECT 'fresh'")).isEqualTo("fresh");
            }
        }
    }

    private static int pid(Connection c) throws SQLException {
        return Integer.parseInt(text(c, "SELECT pg_backend_pid()"));
    }

    private static void terminate(int pid) throws SQLException {
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement("SELECT pg_terminate_backend(?)")) {
            ps.setInt(1, pid);
            ps.executeQuery().close();
        }
        Wait.until("backend " + pid + " gone", () -> {
            try (Connection su = TestPostgres.get().superuser();
                 PreparedStatement ps = su.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
                ps.setInt(1, pid);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 0;
                }
            }
        });
    }
}
