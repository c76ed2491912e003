package dev.pgmux.proxy.transaction;

import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.backends;
import static dev.pgmux.proxy.testing.Pgjdbc.number;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static dev.pgmux.proxy.transaction.TransactionSupport.props;
import static dev.pgmux.proxy.transaction.TransactionSupport.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A client that disappears in the middle of a transaction, holding a lock: pgmux must not give its server,
 * still inside that transaction, to anybody; the lock goes within seconds and no backend stays
 * {@code idle in transaction}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClientKilledTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final String USER = ROLE.name();
    private static final String TABLE = "tx_killed_lock";

    /** Fresh for each test: the next test's pool starts without the vanished client's server. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(t -> t.withPoolSize(2));

    private ExecutorService threads;

    /** How the lock holder goes away. */
    enum Death {
        /** The socket reset (RST) under pgjdbc's feet, between statements. */
        RESET,
        /** The socket closed (FIN) under pgjdbc's feet, between statements, without Terminate. */
        CLOSE,
        /** The socket reset while a statement of the transaction is running on the server. */
        RESET_MID_STATEMENT
    }

    @BeforeAll
    static void createTable() throws SQLException {
        superuserSql("DROP TABLE IF EXISTS " + TABLE, "CREATE TABLE " + TABLE + " (id int)",
                "INSERT INTO " + TABLE + " VALUES (1)", "GRANT ALL ON " + TABLE + " TO " + USER);
    }

    @BeforeEach
    void start() {
        TestPostgres.get().terminateBackends(USER);
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
    }

    private void die(Connection c, int pid, Death death) throws Exception {
        Socket socket = Pgjdbc.socket(c);
        switch (death) {
            case RESET -> {
                socket.setSoLinger(true, 0);
                socket.close();
            }
            case CLOSE -> socket.close();
            case RESET_MID_STATEMENT -> {
                // The statement runs on another thread; it ends with an I/O error when the socket goes.
                threads.submit(() -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT pg_sleep(1)");
                    }
                    return null;
                });
                Wait.until("the statement is running on the server", () -> superuserCount("SELECT count(*)"
                        + " FROM pg_stat_activity WHERE pid = ? AND state = 'active' AND query = 'SELECT pg_sleep(1)'", pid) == 1);
                socket.setSoLinger(true, 0);
                socket.close();
            }
        }
    }

    /** Whether the other client can take the lock right now (NOWAIT), in a transaction it then rolls back. */
    private static boolean lockFree(Connection other) throws SQLException {
        other.setAutoCommit(false);
        try (Statement st = other.createStatement()) {
            st.execute("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE NOWAIT");
            return true;
        } catch (SQLException e) {
            if (!"55P03".equals(e.getSQLState())) { // lock_not_available
                throw e;
            }
            return false;
        } finally {
            other.rollback();
            other.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Death.class)
    void aClientThatVanishesMidTransactionLeavesNoLockAndNoOpenTransaction(Death death) throws Exception {
        try (Connection other = pgmux.get().connectTransaction(ROLE, props())) {
            Connection holder = pgmux.get().connectTransaction(ROLE, props("prepareThreshold", "1"));
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.execute("LOCK TABLE " + TABLE + " IN ACCESS EXCLUSIVE MODE");
            }
            try (PreparedStatement ps = holder.prepareStatement("SELECT count(*) FROM " + TABLE + " WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(1);
                }
            }
            int holderPid = serverPid(holder);
            assertThat(lockFree(other)).as("the lock is held while its transaction is open").isFalse();
            assertThat(backends(USER, "idle in transaction")).isEqualTo(1);

            die(holder, holderPid, death);

            Wait.until("the lock of the vanished client is released", () -> lockFree(other));
            Wait.until("no backend of " + USER + " idle in transaction",
                    () -> backends(USER, "idle in transaction") == 0 && backends(USER, "idle in transaction (aborted)") == 0);
            // The server that was mid-transaction is closed, not handed to anybody.
            Wait.until("the vanished client's server is gone", () -> !backendAlive(holderPid));

            // The pool carries on: two clients at once in transactions, a full pool of two servers.
            try (Connection a = pgmux.get().connectTransaction(ROLE, props());
                 Connection b = pgmux.get().connectTransaction(ROLE, props())) {
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                assertThat(serverPid(a)).isNotEqualTo(serverPid(b));
                assertThat(number(a, "SELECT count(*) FROM " + TABLE)).isEqualTo(1);
                assertThat(number(b, "SELECT count(*) FROM " + TABLE)).isEqualTo(1);
                a.commit();
                b.commit();
            }
            assertThat(lockFree(other)).isTrue();
            holder.close();
        }
    }
}
