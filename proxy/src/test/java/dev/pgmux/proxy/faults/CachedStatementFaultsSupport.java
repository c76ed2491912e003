package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UnnamedStatementPlans;
import dev.pgmux.proxy.model.Op;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What the cached-statement fault tests share: a pgmux with {@code cache_unnamed_statements} on, a few dozen
 * parameterised texts whose every result is checked, raw clients and the superuser's view of the backends.
 */
final class CachedStatementFaultsSupport {
    static final TestRole ROLE = TestPostgres.SCRAM;
    /** Distinct texts the drivers run: each is one shared statement on every server it reaches. */
    static final int TEXTS = 32;
    /** Rows of the key-value table the table texts read. */
    static final int KEYS = 100;
    /** How long a client may take to hear of a fault: far below the drivers' socket timeout. */
    static final Duration BOUND = Duration.ofSeconds(10);

    private CachedStatementFaultsSupport() {}

    /** A pgmux with the cache on, {@code plans} for the statements it serves, {@code poolSize} servers at most. */
    static PgmuxHarness start(int poolSize, UnnamedStatementPlans plans, Duration checkoutTimeout) {
        return PgmuxHarness.start(tenant -> tenant.withPoolSize(poolSize).withCheckoutTimeout(checkoutTimeout)
                .withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true).withUnnamedPlans(plans)));
    }

    /** pgjdbc sending every parameterised statement as Parse(""), Bind, Describe, Execute, Sync. */
    static Connection connect(PgmuxHarness pgmux, Port port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("prepareThreshold", "0");
        props.setProperty("socketTimeout", "60");
        props.setProperty("connectTimeout", "10");
        return port.connect(pgmux, ROLE, props);
    }

    /** The key-value table of {@value #KEYS} rows (k, 'v' || k) the role may read. */
    static void createTable(String table) throws SQLException {
        admin("DROP TABLE IF EXISTS " + table, "CREATE TABLE " + table + " (k int PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO " + table + " SELECT g, 'v' || g FROM generate_series(1, " + KEYS + ") g",
                "GRANT SELECT ON " + table + " TO " + ROLE.name());
    }

    /** Runs {@code sql} as the superuser on a direct connection. */
    static void admin(String... sql) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /**
     * Text {@code k} of {@value #TEXTS} run with values derived from {@code n}, every row checked: sums, series,
     * concatenations and lookups in {@code table}, each text distinct.
     */
    static void check(Connection c, String table, int k, int n) throws SQLException {
        switch (k % 4) {
            case 0 -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + " + k + " AS v, ?::text AS t")) {
                    ps.setInt(1, n);
                    ps.setString(2, "n" + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).as("a row of text %d", k).isTrue();
                        assertThat(rs.getInt(1)).as("text %d, n %d", k, n).isEqualTo(n + k);
                        assertThat(rs.getString(2)).as("text %d, n %d", k, n).isEqualTo("n" + n);
                        assertThat(rs.next()).as("one row of text %d", k).isFalse();
                    }
                }
            }
            case 1 -> {
                int count = n % 5 + 1;
                try (PreparedStatement ps = c.prepareStatement("SELECT g * " + k + " AS v FROM generate_series(1, ?::int) g")) {
                    ps.setInt(1, count);
                    List<Integer> values = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            values.add(rs.getInt(1));
                        }
                    }
                    List<Integer> expected = new ArrayList<>();
                    for (int g = 1; g <= count; g++) {
                        expected.add(g * k);
                    }
                    assertThat(values).as("series of text %d, n %d", k, n).isEqualTo(expected);
                }
            }
            case 2 -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::text || '-" + k + "' AS s")) {
                    ps.setString(1, "v" + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).as("a row of text %d", k).isTrue();
                        assertThat(rs.getString(1)).as("text %d, n %d", k, n).isEqualTo("v" + n + "-" + k);
                    }
                }
            }
            default -> {
                int key = n % KEYS + 1;
                try (PreparedStatement ps = c.prepareStatement("SELECT v, k + " + k + " AS s FROM " + table + " WHERE k = ?")) {
                    ps.setInt(1, key);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).as("the row of key %d, text %d", key, k).isTrue();
                        assertThat(rs.getString(1)).as("text %d, key %d", k, key).isEqualTo("v" + key);
                        assertThat(rs.getInt(2)).as("text %d, key %d", k, key).isEqualTo(key + k);
                        assertThat(rs.next()).as("one row of text %d", k).isFalse();
                    }
                }
            }
        }
    }

    /** Every text once, each checked. */
    static void checkAll(Connection c, String table, int n) throws SQLException {
        for (int k = 0; k < TEXTS; k++) {
            check(c, table, k, n + k);
        }
    }

    /** The text a client runs at step {@code i}: every client walks all of them, in its own order. */
    static int textAt(int client, int i) {
        return (i * 7 + client * 11) % TEXTS;
    }

    /** {@code pgmux_prepared_statements_total} for one event (hit, miss, replay, ...). */
    static double statementEvents(PgmuxHarness pgmux, String event) {
        return Scrape.of(pgmux).sum("pgmux_prepared_statements_total", "event", event);
    }

    /** Whether an SQLSTATE is one of a lost connection (class 08) or of a server shutting down (57P). */
    static boolean connectionLost(String sqlState) {
        return sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("57P"));
    }

    // --- raw clients ---

    static WireClient login(PgmuxHarness pgmux, Port port, String name) throws IOException {
        return WireClient.login(name, "127.0.0.1", port.of(pgmux), PgmuxHarness.tenantUser(ROLE),
                PgmuxHarness.password(ROLE), "postgres", BOUND);
    }

    static byte[] bytes(Op... ops) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Op op : ops) {
            op.encode(out);
        }
        return out.toByteArray();
    }

    /** Sends {@code ops} and reads up to their ReadyForQuery messages; fails unless all came. */
    static List<BackendMessage> exchange(WireClient client, Op... ops) throws IOException {
        int ready = 0;
        for (Op op : ops) {
            ready += op.readyCount();
        }
        WireClient.Reply reply = client.exchange(bytes(ops), ready);
        assertThat(reply.complete()).as("%s answered: %s; got %s", client, reply.failure(), reply.messages()).isTrue();
        return reply.messages().stream().filter(m -> m.tag() != 'N' && m.tag() != 'S').toList();
    }

    /** A whole unit of the unnamed statement: Parse, Bind, Describe portal, Execute, Sync. */
    static Op[] unit(String sql, String... parameters) {
        return new Op[] {Op.parse("", sql), Op.bind("", "", parameters), Op.describePortal(""), Op.execute(), Op.sync()};
    }

    static List<String> tags(List<BackendMessage> messages) {
        return messages.stream().map(m -> BackendMessage.name(m.tag())).toList();
    }

    static List<List<String>> rows(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'D').map(BackendMessage::values).toList();
    }

    static List<List<String>> columns(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'T').map(BackendMessage::columnNames).toList();
    }

    static List<BackendMessage> errors(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() == 'E').toList();
    }

    /**
     * What a client whose server went away must get: one error of a lost connection (its severity aside),
     * nothing of a completed statement, and the end of the connection, all within {@link #BOUND}. Returns
     * the messages.
     */
    static List<BackendMessage> assertEndedWithError(WireClient client, String what) throws IOException {
        WireClient.Drained drained = client.drainUntilClosed(BOUND);
        List<BackendMessage> messages = drained.messages().stream().filter(m -> m.tag() != 'N' && m.tag() != 'S').toList();
        assertThat(drained.closed()).as("%s: the connection ends within %s; got %s", what, BOUND, messages).isTrue();
        List<BackendMessage> errors = errors(messages);
        assertThat(errors).as("%s: one error before the end; got %s", what, messages).hasSize(1);
        assertThat(errors.getFirst().sqlState()).as("%s: SQLSTATE of %s", what, errors.getFirst())
                .matches("08...|57P0[1-3]");
        assertThat(tags(messages)).as("%s: nothing of a statement run to its end", what)
                .doesNotContain("CommandComplete", "DataRow", "ReadyForQuery");
        return messages;
    }

    // --- the superuser's view ---

    static boolean waitsForLock(int pid) throws SQLException {
        return superuserCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'", pid) == 1;
    }

    /** pg_terminate_backend, then waits until the backend is gone. */
    static void terminate(int pid) throws SQLException {
        assertThat(superuserCount("SELECT pg_terminate_backend(?)::int", pid)).as("backend %d terminated", pid).isEqualTo(1);
        Wait.until("backend " + pid + " gone", BOUND, () -> !backendAlive(pid));
    }

    /** The upstream pids of the servers of {@code pool}; with {@code inUseOnly}, of those a client holds. */
    static List<Integer> serverPids(ServerPool pool, boolean inUseOnly) {
        List<Integer> pids = new ArrayList<>();
        for (ServerConnection server : pool.servers()) {
            if (server.backendKey() != null && (!inUseOnly || server.state() == ServerConnection.State.IN_USE)) {
                pids.add(server.backendKey().processId());
            }
        }
        return pids;
    }
}
