package dev.pgmux.proxy.session;

import static dev.pgmux.proxy.testing.Pgjdbc.backends;
import static dev.pgmux.proxy.testing.Pgjdbc.number;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What a session keeps, and that none of it reaches the next client of the same server: with pool_size 1
 * every client of scram_user gets the same server as long as pgmux gives it back clean.
 */
@Timeout(60)
class SessionStateTest {
    private static final String USER = TestPostgres.SCRAM.name();
    private static final String ROWS = "session_state_rows";
    /** How long a condition that should hold soon may take before a test gives up on it. */
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static String defaultStatementTimeout;
    private static String defaultSearchPath;

    /** Fresh for each test: a server one test left behind is no other test's business. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(tenant -> tenant.withPoolSize(1));

    @BeforeAll
    static void prepareDatabase() throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS myschema AUTHORIZATION " + USER);
            st.execute("CREATE TABLE IF NOT EXISTS public." + ROWS + " (id bigint)");
            st.execute("GRANT ALL ON public." + ROWS + " TO " + USER);
        }
        try (Connection direct = TestPostgres.get().connect(TestPostgres.SCRAM)) {
            defaultStatementTimeout = text(direct, "SELECT reset_val FROM pg_settings WHERE name = 'statement_timeout'");
            defaultSearchPath = text(direct, "SELECT reset_val FROM pg_settings WHERE name = 'search_path'");
        }
    }

    @BeforeEach
    void cleanUpstream() {
        TestPostgres.get().terminateBackends(USER);
    }

    @Test
    void sessionStateLastsForTheSessionAndIsGoneForTheNextClient() throws Exception {
        int pid;
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM); Statement st = c.createStatement()) {
            pid = serverPid(c);
            st.execute("SET statement_timeout = '1234ms'");
            st.execute("CREATE TEMP TABLE session_scratch (x int)");
            st.execute("INSERT INTO session_scratch VALUES (1), (2)");
            st.execute("SET search_path = myschema, public");

            assertThat(text(c, "SHOW statement_timeout")).isEqualTo("1234ms");
            assertThat(number(c, "SELECT count(*) FROM session_scratch")).isEqualTo(2);
            assertThat(text(c, "SELECT current_schemas(false)::text")).isEqualTo("{myschema,public}");
            assertThat(serverPid(c)).as("one server for the whole session").isEqualTo(pid);
        }
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
            assertThat(serverPid(c)).as("pool_size 1: the same server again").isEqualTo(pid);
            assertThat(text(c, "SHOW statement_timeout")).isEqualTo(defaultStatementTimeout);
            assertThat(text(c, "SELECT to_regclass('pg_temp.session_scratch')::text")).isNull();
            assertThat(text(c, "SELECT current_setting('search_path')")).isEqualTo(defaultSearchPath);
        }
    }

    @Test
    void startupParametersReachTheServerAndDoNotLeakToTheNextClient() throws Exception {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "session-state-test");
        props.setProperty("options", "-c search_path=myschema,public");
        int pid;
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM, props)) {
            pid = serverPid(c);
            assertThat(text(c, "SELECT current_setting('application_name')")).isEqualTo("session-state-test");
            assertThat(text(c, "SELECT current_setting('search_path')").replace(" ", "")).isEqualTo("myschema,public");
            assertThat(text(c, "SELECT current_schemas(false)::text")).isEqualTo("{myschema,public}");
        }
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        Properties other = new Properties();
        other.setProperty("ApplicationName", "next-client");
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM, other)) {
            assertThat(serverPid(c)).as("pool_size 1: the same server again").isEqualTo(pid);
            assertThat(text(c, "SELECT current_setting('application_name')")).isEqualTo("next-client");
            assertThat(text(c, "SELECT current_setting('search_path')")).isEqualTo(defaultSearchPath);
        }
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        // A client that names no application at all does not inherit one either.
        Properties none = new Properties();
        none.setProperty("ApplicationName", "");
        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM, none)) {
            assertThat(serverPid(c)).isEqualTo(pid);
            assertThat(text(c, "SELECT current_setting('application_name')")).isEmpty();
        }
    }

    @Test
    void invalidStartupSettingIsRefusedAsPostgresWouldAndTheServerStaysUsable() throws Exception {
        Properties props = new Properties();
        props.setProperty("options", "-c statement_timeout=abc");
        PSQLException e = serverError(() -> pgmux.get().connect(TestPostgres.SCRAM, props).close());
        assertThat(e.getSQLState()).isEqualTo("22023");
        assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("invalid value for parameter \"statement_timeout\": \"abc\"");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
            assertThat(text(c, "SHOW statement_timeout")).isEqualTo(defaultStatementTimeout);
            assertThat(text(c, "SELECT 'still in step'")).isEqualTo("still in step");
        }
    }

    @Test
    void serverOfAClientThatLeftDuringSetupReachesTheNextClientWithNothingPending() throws Exception {
        int pid;
        try (Connection warm = pgmux.get().connect(TestPostgres.SCRAM)) {
            pid = serverPid(warm);
        }
        pgmux.get().awaitIdle(TestPostgres.SCRAM, 1, WAIT);

        ExecutorService thread = Executors.newSingleThreadExecutor();
        try (Connection su = TestPostgres.get().superuser(); Statement lock = su.createStatement()) {
            // Keeps pgmux's set_config of the next login's startup settings running on the server: checking
            // default_tablespace reads pg_tablespace.
            su.setAutoCommit(false);
            lock.execute("LOCK TABLE pg_catalog.pg_tablespace IN ACCESS EXCLUSIVE MODE");
            Future<List<String>> next;
            try (WireClient leaving = WireClient.connect(pgmux.get().sessionPort())) {
                Map<String, String> startup = new LinkedHashMap<>();
                startup.put("user", PgmuxHarness.tenantUser(TestPostgres.SCRAM));
                startup.put("database", "postgres");
                startup.put("default_tablespace", "pg_default");
                leaving.send(Wire.startupPacket(Wire.PROTOCOL_3_0, startup));
                leaving.authenticate(PgmuxHarness.tenantUser(TestPostgres.SCRAM), TestPostgres.SCRAM.password());
                Wait.until("pgmux applying the startup settings on the server", WAIT, () -> waitingForLock(pid));
                next = thread.submit(() -> {
                    try (Connection c = pgmux.get().connect(TestPostgres.SCRAM)) {
                        return List.of(text(c, "SELECT 'first'"), text(c, "SELECT 'second'"),
                                text(c, "SELECT current_setting('default_tablespace')"));
                    }
                });
                Wait.until("the next client waiting for the server", WAIT,
                        () -> pgmux.get().stats(TestPostgres.SCRAM).waiting() == 1);
                leaving.closeWithoutTerminate(); // leaves before its settings were applied
            }
            Wait.until("pgmux seeing the client leave", WAIT, () -> pgmux.get().tenant().clients() == 1);
            su.rollback();

            assertThat(next.get(20, TimeUnit.SECONDS))
                    .as("answers to the next client's queries, each to its own")
                    .containsExactly("first", "second", "");
        } finally {
            thread.shutdownNow();
        }
    }

    private static boolean waitingForLock(int pid) throws SQLException {
        try (Connection su = TestPostgres.get().superuser()) {
            return text(su, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid
                    + " AND wait_event_type = 'Lock' AND query LIKE '%set_config%'").equals("1");
        }
    }

    @Test
    void clientClosingMidTransactionNeverLeavesItsServerDirty() throws Exception {
        leaveMidTransaction(false);
    }

    @Test
    void clientSocketAbortedMidTransactionNeverLeavesItsServerDirty() throws Exception {
        leaveMidTransaction(true);
    }

    private void leaveMidTransaction(boolean abortSocket) throws Exception {
        long marker = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        int firstPid;
        Connection c = pgmux.get().connect(TestPostgres.SCRAM);
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO public." + ROWS + " VALUES (" + marker + ")");
            }
            firstPid = serverPid(c);
            assertThat(number(c, "SELECT count(*) FROM public." + ROWS + " WHERE id = " + marker)).isEqualTo(1);
            assertThat(backends(USER, "idle in transaction")).isEqualTo(1);
        } finally {
            if (abortSocket) {
                // A reset instead of Terminate: the client vanishes as a crashed process does.
                Pgjdbc.kill(c);
            }
            c.close();
        }

        Wait.until("no backend of " + USER + " left idle in transaction", WAIT,
                () -> backends(USER, "idle in transaction") == 0);
        Wait.until("the pool back to at most one server, none in use", WAIT, () -> {
            var s = pgmux.get().stats(TestPostgres.SCRAM);
            return s.active() == 0 && s.open() <= 1;
        });

        try (Connection next = pgmux.get().connect(TestPostgres.SCRAM)) {
            int nextPid = serverPid(next);
            assertThat(number(next, "SELECT count(*) FROM public." + ROWS + " WHERE id = " + marker))
                    .as("the uncommitted row of the client that left").isZero();
            // Not inside the transaction of the client that left: nothing has written in this one yet.
            assertThat(text(next, "SELECT txid_current_if_assigned()")).isNull();
            assertThat(nextPid).as("a server left mid-transaction is closed, not reused").isNotEqualTo(firstPid);
        }
        try (Connection direct = TestPostgres.get().superuser()) {
            assertThat(number(direct, "SELECT count(*) FROM public." + ROWS + " WHERE id = " + marker)).isZero();
        }
    }
}
