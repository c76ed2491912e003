package dev.pgmux.proxy.features;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * After DDL that changes a prepared statement's result type, a client sees "cached plan must not change
 * result type" (0A000) at most once for that statement, as on a direct connection, also when it works
 * inside transactions (where pgjdbc cannot retry) and lands on servers that still hold the old plan.
 */
@Timeout(90)
class PlanChangeTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final int CLIENTS = 3;
    private static final String TABLE = "plan_change";

    @ParameterizedTest
    @EnumSource(Port.class)
    void zeroA000AtMostOncePerClientInsideTransactions(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(CLIENTS));
             Connection su = TestPostgres.get().superuser(); Statement admin = su.createStatement()) {
            admin.execute("DROP TABLE IF EXISTS " + TABLE);
            admin.execute("CREATE TABLE " + TABLE + " (a int)");
            admin.execute("INSERT INTO " + TABLE + " VALUES (1)");
            admin.execute("GRANT ALL ON " + TABLE + " TO " + ROLE.name());
            Properties named = new Properties();
            named.setProperty("prepareThreshold", "1");
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Connection c = port.connect(pgmux, ROLE, named);
                    c.setAutoCommit(false);
                    clients.add(c);
                }
                int[] errors = new int[CLIENTS];
                round(clients, errors, 1); // every server holds the statement, each inside a transaction
                admin.execute("ALTER TABLE " + TABLE + " ADD COLUMN b int DEFAULT 7");
                for (int r = 0; r < 6; r++) {
                    round(clients, errors, 2);
                }
                for (int i = 0; i < CLIENTS; i++) {
                    assertThat(errors[i]).as("0A000 errors seen by client %d", i).isLessThanOrEqualTo(1);
                }
            } finally {
                for (Connection c : clients) {
                    c.close();
                }
                admin.execute("DROP TABLE IF EXISTS " + TABLE);
            }
        }
    }

    /**
     * Each client executes the statement in a transaction that stays open until every client has, so that
     * in transaction mode each holds a server of its own; then all commit (or roll back after 0A000).
     */
    private static void round(List<Connection> clients, int[] errors, int columns) throws SQLException {
        boolean[] failed = new boolean[clients.size()];
        for (int i = 0; i < clients.size(); i++) {
            try (PreparedStatement ps = clients.get(i).prepareStatement("SELECT * FROM " + TABLE);
                 ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getMetaData().getColumnCount()).as("columns seen by client %d", i).isEqualTo(columns);
            } catch (SQLException e) {
                if (!"0A000".equals(e.getSQLState())) {
                    throw e;
                }
                errors[i]++;
                failed[i] = true;
            }
        }
        for (int i = 0; i < clients.size(); i++) {
            if (failed[i]) {
                clients.get(i).rollback();
            } else {
                clients.get(i).commit();
            }
        }
    }
}
