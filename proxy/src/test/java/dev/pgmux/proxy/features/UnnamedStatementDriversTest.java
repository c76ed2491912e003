package dev.pgmux.proxy.features;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Properties;

/**
 * Real drivers that use the unnamed statement for their parameterised queries, through the transaction
 * port with {@code cache_unnamed_statements} on: pgjdbc with {@code prepareThreshold=0}, node-postgres
 * without statement names and psycopg 3 with its defaults. Several clients at once on fewer servers, a few
 * dozen distinct texts, and every result checked; the shared statements must actually have served them.
 */
@Timeout(240)
class UnnamedStatementDriversTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final int CLIENTS = 4;
    private static final int ROUNDS = 150;
    private static final int TEXTS = 30;

    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perTest(tenant -> tenant.withPoolSize(3)
            .withPreparedStatements(tenant.preparedStatements().withCacheUnnamed(true)));

    /**
     * Most parses were answered from a shared statement the server already held (hit) rather than prepared
     * on it (miss): each text is prepared once per server, again each time custom plans call for it, and
     * served from there on, also after every client let go of it in between.
     */
    private static void assertServedFromSharedStatements() {
        Scrape scrape = Scrape.of(pgmux.get());
        double hits = scrape.sum("pgmux_prepared_statements_total", "event", "hit");
        double misses = scrape.sum("pgmux_prepared_statements_total", "event", "miss");
        assertThat(hits).as("parses served from shared statements (%s prepared on servers)", misses)
                .isGreaterThan(misses);
    }

    @Test
    void pgjdbcWithPrepareThresholdZero() throws Exception {
        Properties unnamed = new Properties();
        unnamed.setProperty("prepareThreshold", "0");
        AtomicInteger checked = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> clients = new ArrayList<>();
            for (int id = 0; id < CLIENTS; id++) {
                int client = id;
                clients.add(pool.submit(() -> {
                    try (Connection c = Port.TRANSACTION.connect(pgmux.get(), ROLE, unnamed)) {
                        for (int i = 0; i < ROUNDS; i++) {
                            int k = (i * 7 + client * 11) % TEXTS;
                            int n = i * 13 + client;
                            if (i % 17 == 5) {
                                try (PreparedStatement ps = c.prepareStatement("SELECT 10 / ?::int -- " + k)) {
                                    ps.setInt(1, 0);
                                    assertThat(Pgjdbc.sqlError(ps::executeQuery).getSQLState()).isEqualTo("22012");
                                }
                            } else if (i % 10 == 3) {
                                c.setAutoCommit(false);
                                check(c, k, n);
                                check(c, (k + 1) % TEXTS, n + 1);
                                c.commit();
                                c.setAutoCommit(true);
                                checked.addAndGet(2);
                            } else {
                                check(c, k, n);
                                checked.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> client : clients) {
                client.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(checked.get()).isEqualTo(CLIENTS * expectedPerClient());
        assertServedFromSharedStatements();
    }

    private static int expectedPerClient() {
        int count = 0;
        for (int i = 0; i < ROUNDS; i++) {
            count += i % 17 == 5 ? 0 : i % 10 == 3 ? 2 : 1;
        }
        return count;
    }

    /** One of {@value #TEXTS} texts, by {@code k}; its rows checked. */
    private static void check(Connection c, int k, int n) throws SQLException {
        switch (k % 3) {
            case 0 -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + " + k + " AS v, ?::text AS t")) {
                    ps.setInt(1, n);
                    ps.setString(2, "n" + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).as("text %d, n %d", k, n).isEqualTo(n + k);
                        assertThat(rs.getString(2)).isEqualTo("n" + n);
                        assertThat(rs.next()).isFalse();
                    }
                }
            }
            case 1 -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT g * " + k + " AS v FROM generate_series(1, ?::int) g")) {
                    ps.setInt(1, n % 5 + 1);
                    List<Integer> values = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            values.add(rs.getInt(1));
                        }
                    }
                    List<Integer> expected = new ArrayList<>();
                    for (int g = 1; g <= n % 5 + 1; g++) {
                        expected.add(g * k);
                    }
                    assertThat(values).as("series %d, n %d", k, n).isEqualTo(expected);
                }
            }
            default -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::text || '-" + k + "' AS s")) {
                    ps.setString(1, "v" + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).as("concat %d, n %d", k, n).isEqualTo("v" + n + "-" + k);
                    }
                }
            }
        }
    }

    private static Map<String, String> environment() {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(pgmux.get().transactionPort()),
                "PGUSER", PgmuxHarness.tenantUser(ROLE), "PGPASSWORD", PgmuxHarness.password(ROLE),
                "PGDATABASE", "postgres", "PGSSLMODE", "disable",
                "UNNAMED_CLIENTS", Integer.toString(CLIENTS), "UNNAMED_ROUNDS", Integer.toString(ROUNDS));
    }

    @Test
    void nodePostgresWithoutStatementNames() throws Exception {
        String out = NodePostgres.run("unnamed-queries.js", environment(), 180);
        // Per client: 150 rounds, of which 9 divisions by zero and 14 transactions of two queries.
        assertThat(out.trim()).isEqualTo("{\"queries\":" + CLIENTS * 155 + ",\"errors\":" + CLIENTS * 9 + "}");
        assertServedFromSharedStatements();
    }

    @Test
    void psycopgWithItsDefaults() throws Exception {
        String out = Psycopg.run("unnamed_queries.py", environment(), 180);
        // Per client: 150 rounds, of which 9 divisions by zero.
        assertThat(out.trim()).isEqualTo("{\"queries\": " + CLIENTS * 141 + ", \"errors\": " + CLIENTS * 9 + "}");
        assertServedFromSharedStatements();
    }
}
