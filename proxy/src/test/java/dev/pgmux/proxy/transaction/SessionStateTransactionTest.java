package dev.pgmux.proxy.transaction;

import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static dev.pgmux.proxy.transaction.TransactionSupport.Holder;
import static dev.pgmux.proxy.transaction.TransactionSupport.closeAll;
import static dev.pgmux.proxy.transaction.TransactionSupport.props;
import static dev.pgmux.proxy.transaction.TransactionSupport.superuserSql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * In transaction mode a client's session settings (startup parameters, SET, RESET) follow it to whichever
 * server it lands on, and never reach the other clients of those servers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SessionStateTransactionTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final String USER = ROLE.name();
    private static final int POOL_SIZE = 2;
    private static final String MARKER = "tx_state_marker";
    /** Where the client runs, and what it sees: pid, search_path, TimeZone, application_name, statement_timeout, marker. */
    private static final String PROBE = "SELECT pg_backend_pid(), current_setting('search_path'), current_setting('TimeZone'),"
            + " current_setting('application_name'), current_setting('statement_timeout'), (SELECT v FROM " + MARKER + ")";

    private static String defaultSearchPath;
    private static String defaultStatementTimeout;
    /** What a pgjdbc client gets without a SET: pgjdbc sends the JVM's time zone at startup. */
    private static String clientTimeZone;

    /** Fresh for each test: no client settings learnt by an earlier test. */
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(t -> t.withPoolSize(POOL_SIZE));

    record Seen(int pid, String searchPath, String timeZone, String applicationName, String statementTimeout, String marker) {}

    @BeforeAll
    static void prepareDatabase() throws SQLException {
        superuserSql("CREATE SCHEMA IF NOT EXISTS myschema AUTHORIZATION " + USER,
                "DROP TABLE IF EXISTS public." + MARKER, "DROP TABLE IF EXISTS myschema." + MARKER,
                "CREATE TABLE public." + MARKER + " AS SELECT 'public'::text AS v",
                "CREATE TABLE myschema." + MARKER + " AS SELECT 'myschema'::text AS v",
                "GRANT SELECT ON public." + MARKER + ", myschema." + MARKER + " TO " + USER);
        try (Connection direct = TestPostgres.get().connect(ROLE)) {
            defaultSearchPath = text(direct, "SELECT reset_val FROM pg_settings WHERE name = 'search_path'");
            defaultStatementTimeout = text(direct, "SHOW statement_timeout");
            clientTimeZone = text(direct, "SHOW TimeZone");
        }
        assertThat(clientTimeZone).isNotEqualTo("Asia/Tokyo");
    }

    @BeforeEach
    void cleanUpstream() {
        TestPostgres.get().terminateBackends(USER);
    }

    private static Seen probe(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(PROBE)) {
            assertThat(rs.next()).isTrue();
            return new Seen(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6));
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /**
     * Runs {@link #PROBE} for {@code client} (in autocommit) once on each server of the pool, by holding all
     * servers but one; each holder probes its own server too, as the other client of that server.
     *
     * @return what the client saw, and what the other clients saw, by server pid
     */
    private Map<Integer, Seen[]> probeEveryServer(Connection client, Properties holderProps) throws SQLException {
        List<Holder> holders = new ArrayList<>();
        Map<Integer, Seen[]> seen = new LinkedHashMap<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                holders.add(Holder.open(pgmux.get(), ROLE, holderProps));
            }
            assertThat(holders.stream().map(h -> h.pid).distinct().count()).isEqualTo(POOL_SIZE);
            for (Holder h : holders) {
                h.release(); // now the only free server is h's
                Seen byClient = probe(client);
                assertThat(byClient.pid()).as("the client runs on the one free server").isEqualTo(h.pid);
                Seen byOther = probe(h.connection); // h takes its server back, in a new transaction
                assertThat(byOther.pid()).isEqualTo(h.pid);
                seen.put(h.pid, new Seen[] {byClient, byOther});
            }
        } finally {
            closeAll(holders);
        }
        assertThat(seen).hasSize(POOL_SIZE);
        return seen;
    }

    @Test
    void setAndStartupParametersFollowTheClientAndStayItsOwn() throws Exception {
        try (Connection x = pgmux.get().connectTransaction(ROLE, props("ApplicationName", "x-app"))) {
            x.setAutoCommit(false);
            int usedByX = serverPid(x);
            exec(x, "SET search_path = myschema, public");
            exec(x, "SET TimeZone = 'Asia/Tokyo'");
            x.commit();
            x.setAutoCommit(true);

            // The server x used is held by another client; x goes to the other one and still has its settings.
            List<Holder> holders = TransactionSupport.holdAllBut(pgmux.get(), ROLE, POOL_SIZE, null, usedByX,
                    props("ApplicationName", "y-app"));
            try {
                Seen onOther = probe(x);
                assertThat(onOther.pid()).isNotEqualTo(usedByX);
                assertThat(onOther.searchPath()).isEqualTo("myschema, public");
                assertThat(onOther.marker()).isEqualTo("myschema");
                assertThat(onOther.timeZone()).isEqualTo("Asia/Tokyo");
                assertThat(onOther.applicationName()).isEqualTo("x-app");

                // The holder sits on the server x used before, and sees none of x's settings.
                Holder y = holders.get(0);
                assertThat(y.pid).isEqualTo(usedByX);
                Seen byY = probe(y.connection);
                assertThat(byY.pid()).isEqualTo(usedByX);
                assertThat(byY.searchPath()).isEqualTo(defaultSearchPath);
                assertThat(byY.marker()).isEqualTo("public");
                assertThat(byY.timeZone()).isEqualTo(clientTimeZone);
                assertThat(byY.applicationName()).isEqualTo("y-app");
            } finally {
                closeAll(holders);
            }

            // On every server, again, both ways round.
            for (Seen[] seen : probeEveryServer(x, props("ApplicationName", "y-app")).values()) {
                assertThat(seen[0]).extracting(Seen::searchPath, Seen::timeZone, Seen::applicationName, Seen::marker)
                        .containsExactly("myschema, public", "Asia/Tokyo", "x-app", "myschema");
                assertThat(seen[1]).extracting(Seen::searchPath, Seen::timeZone, Seen::applicationName, Seen::marker)
                        .containsExactly(defaultSearchPath, clientTimeZone, "y-app", "public");
            }

            // RESET follows too.
            exec(x, "RESET search_path");
            for (Seen[] seen : probeEveryServer(x, props("ApplicationName", "y-app")).values()) {
                assertThat(seen[0]).extracting(Seen::searchPath, Seen::timeZone, Seen::marker)
                        .containsExactly(defaultSearchPath, "Asia/Tokyo", "public");
                assertThat(seen[1].timeZone()).isEqualTo(clientTimeZone);
            }
        }
    }

    @Test
    void aSetThatRollsBackDoesNotStickOneThatCommitsDoes() throws Exception {
        try (Connection x = pgmux.get().connectTransaction(ROLE, props())) {
            x.setAutoCommit(false);
            exec(x, "SET statement_timeout = '4321ms'");
            assertThat(text(x, "SHOW statement_timeout")).isEqualTo("4321ms");
            x.rollback();
            x.setAutoCommit(true);
            for (Seen[] seen : probeEveryServer(x, props()).values()) {
                assertThat(seen[0].statementTimeout()).as("rolled back").isEqualTo(defaultStatementTimeout);
            }

            x.setAutoCommit(false);
            exec(x, "SET statement_timeout = '4322ms'");
            exec(x, "SET LOCAL search_path = myschema, public");
            assertThat(text(x, "SELECT v FROM " + MARKER)).isEqualTo("myschema");
            x.commit();
            x.setAutoCommit(true);
            for (Seen[] seen : probeEveryServer(x, props()).values()) {
                assertThat(seen[0].statementTimeout()).as("committed").isEqualTo("4322ms");
                assertThat(seen[0].searchPath()).as("SET LOCAL ends with the transaction").isEqualTo(defaultSearchPath);
                assertThat(seen[1].statementTimeout()).as("another client").isEqualTo(defaultStatementTimeout);
            }

            // SET through a named prepared statement, and a failed transaction that had one.
            try (Connection p = pgmux.get().connectTransaction(ROLE, props("prepareThreshold", "1"))) {
                try (PreparedStatement set = p.prepareStatement("SET statement_timeout = '4323ms'")) {
                    set.execute();
                }
                p.setAutoCommit(false);
                exec(p, "SET statement_timeout = '9999ms'");
                assertThat(sqlError(() -> exec(p, "SELECT 1 / 0")).getSQLState()).isEqualTo("22012");
                p.rollback();
                p.setAutoCommit(true);
                for (Seen[] seen : probeEveryServer(p, props()).values()) {
                    assertThat(seen[0].statementTimeout()).isEqualTo("4323ms");
                }
            }
        }
    }

    @Test
    void startupOptionsFollowTheClient() throws Exception {
        Properties withOptions = props("options", "-c statement_timeout=5432 -c search_path=myschema,public",
                "ApplicationName", "opts-app");
        try (Connection x = pgmux.get().connectTransaction(ROLE, withOptions)) {
            for (Seen[] seen : probeEveryServer(x, props("ApplicationName", "plain-app")).values()) {
                assertThat(seen[0]).extracting(Seen::statementTimeout, Seen::marker, Seen::applicationName)
                        .containsExactly("5432ms", "myschema", "opts-app");
                assertThat(seen[1]).extracting(Seen::statementTimeout, Seen::marker, Seen::applicationName)
                        .containsExactly(defaultStatementTimeout, "public", "plain-app");
            }
            // Changed by SET, then RESET to the startup value, as Postgres does.
            exec(x, "SET statement_timeout = '1s'");
            assertThat(text(x, "SHOW statement_timeout")).isEqualTo("1s");
            exec(x, "RESET statement_timeout");
            for (Seen[] seen : probeEveryServer(x, props()).values()) {
                assertThat(seen[0].statementTimeout()).isEqualTo("5432ms");
            }
        }
        // A second login with the same startup settings is welcomed from what the first one learnt,
        // without a server: the settings, and the values RESET goes back to, are the same.
        try (Connection again = pgmux.get().connectTransaction(ROLE, withOptions)) {
            exec(again, "SET statement_timeout = '2s'");
            exec(again, "SET search_path = public");
            exec(again, "RESET statement_timeout");
            exec(again, "RESET search_path");
            for (Seen[] seen : probeEveryServer(again, props("ApplicationName", "plain-app")).values()) {
                assertThat(seen[0]).extracting(Seen::statementTimeout, Seen::marker, Seen::applicationName)
                        .containsExactly("5432ms", "myschema", "opts-app");
                assertThat(seen[1]).extracting(Seen::statementTimeout, Seen::marker, Seen::applicationName)
                        .containsExactly(defaultStatementTimeout, "public", "plain-app");
            }
        }
    }
}
