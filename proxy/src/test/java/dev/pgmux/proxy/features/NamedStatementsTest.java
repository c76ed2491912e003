package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Transaction control as named prepared statements (node-postgres with {@code name}, Prisma's adapter,
 * pgjdbc past its prepare threshold) works whichever server the client lands on and in whatever state
 * that server's transaction is: a ROLLBACK prepared on one server ends an aborted transaction on another.
 */
@Timeout(60)
class NamedStatementsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    /** pgjdbc names every statement from its first execution. */
    private static Properties named() {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        return p;
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void transactionControlWorksOnAServerThatNeverSawItAndInAnAbortedTransaction(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(tenant -> tenant.withPoolSize(2));
             Connection x = port.connect(pgmux, ROLE, named());
             Connection y = port.connect(pgmux, ROLE)) {
            Statements s = new Statements(x);
            // Every statement prepared on X's first server, in a first round.
            int first = s.round();
            y.setAutoCommit(false);
            int yPid = Integer.parseInt(text(y, "SELECT pg_backend_pid()"));
            if (port == Port.TRANSACTION) {
                assertThat(yPid).as("Y holds the server X prepared its statements on").isEqualTo(first);
            }
            // X's next transactions run on a server that holds none of them, and abort on it.
            for (int i = 0; i < 3; i++) {
                int pid = s.round();
                if (port == Port.TRANSACTION) {
                    assertThat(pid).as("X on another server than Y").isNotEqualTo(yPid);
                }
            }
            y.rollback();
            assertThat(s.round()).isPositive();
        }
    }

    /** The named statements of one client and one round of them: error, rollback to savepoint, commit, abort, rollback. */
    private static final class Statements {
        private final Connection c;
        private final PreparedStatement begin;
        private final PreparedStatement savepoint;
        private final PreparedStatement fail;
        private final PreparedStatement rollbackToSavepoint;
        private final PreparedStatement commit;
        private final PreparedStatement rollback;
        private final PreparedStatement pid;

        Statements(Connection c) throws SQLException {
            this.c = c;
            begin = c.prepareStatement("BEGIN");
            savepoint = c.prepareStatement("SAVEPOINT sp");
            fail = c.prepareStatement("SELECT 1 / 0");
            rollbackToSavepoint = c.prepareStatement("ROLLBACK TO SAVEPOINT sp");
            commit = c.prepareStatement("COMMIT");
            rollback = c.prepareStatement("ROLLBACK");
            pid = c.prepareStatement("SELECT pg_backend_pid()");
        }

        /** Runs a round; returns the server pid of its last transaction. */
        int round() throws SQLException {
            begin.execute();
            savepoint.execute();
            assertFails(fail, "22012");
            assertFails(pid, "25P02");
            rollbackToSavepoint.execute();
            commit.execute();

            begin.execute();
            int server = pid();
            assertFails(fail, "22012");
            assertFails(fail, "25P02");
            rollback.execute();
            assertThat(text(c, "SELECT 'out of the aborted transaction'")).isEqualTo("out of the aborted transaction");
            return server;
        }

        private int pid() throws SQLException {
            try (var rs = pid.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }

        private static void assertFails(PreparedStatement st, String sqlState) {
            SQLException e = catchThrowableOfType(SQLException.class, st::execute);
            assertThat((Object) e).as("%s failed", st).isNotNull();
            assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo(sqlState);
        }
    }
}
