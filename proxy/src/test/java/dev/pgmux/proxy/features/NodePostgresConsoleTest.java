package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.ConsoleSupport.ADMIN;
import static dev.pgmux.proxy.features.ConsoleSupport.STATS;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.console.ShowTable;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.sql.Connection;
import java.util.List;
import java.util.Map;

/**
 * The admin console through node-postgres ({@code pg} 8, the driver most Node.js monitoring uses), as an admin
 * and as a stats user, on both ports: {@code client.query(text)} in the simple protocol, {@code rowMode: 'array'},
 * a named statement (Parse, Bind, Describe, Execute, Sync; then Bind, Describe, Execute, Sync when it runs again),
 * the extended protocol on the unnamed statement, and an error in the extended protocol that the connection
 * survives. The fields the driver reports (names and type OIDs) are those the console declares for each SHOW.
 */
@Timeout(300)
class NodePostgresConsoleTest {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(ConsoleSupport::config);

    private static final String POOL_DATABASE = "postgres." + PgmuxHarness.TENANT;

    @ParameterizedTest
    @EnumSource(Port.class)
    void nodePostgresReadsTheConsoleInBothProtocols(Port port) throws Exception {
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM)) {
            assertThat(text(tenant, "SELECT 'pooled'")).isEqualTo("pooled");
            for (UserConfig user : List.of(ADMIN, STATS)) {
                Map<String, Object> out = queries(port, user);
                String who = user.name() + " on the " + port + " port";

                Map<String, Object> pools = result(out, "pools");
                assertThat(fields(pools)).as("SHOW POOLS fields, simple protocol, %s", who)
                        .isEqualTo(declared(ShowTable.POOLS));
                Map<String, Object> pool = rows(pools).stream().map(NodePostgresConsoleTest::object)
                        .filter(r -> POOL_DATABASE.equals(r.get("database"))).findFirst()
                        .orElseThrow(() -> new AssertionError("no pool of " + POOL_DATABASE + " in " + pools));
                assertThat(pool.get("user")).isEqualTo(TestPostgres.SCRAM.name());
                assertThat(pool.get("tenant")).isEqualTo(PgmuxHarness.TENANT);
                assertThat(pool.get("cl_active")).as("int4, parsed as a number: the tenant's client")
                        .isInstanceOf(Number.class);
                assertThat(((Number) pool.get("cl_active")).intValue()).isGreaterThanOrEqualTo(1);

                Map<String, Object> databases = result(out, "databases");
                assertThat(fields(databases)).as("SHOW DATABASES fields, rowMode array, %s", who)
                        .isEqualTo(declared(ShowTable.DATABASES));
                List<?> database = rows(databases).stream().map(r -> (List<?>) r)
                        .filter(r -> POOL_DATABASE.equals(r.getFirst())).findFirst()
                        .orElseThrow(() -> new AssertionError("no database " + POOL_DATABASE + " in " + databases));
                assertThat(database).hasSize(ShowTable.DATABASES.columns().size());
                assertThat(database.get(2)).as("port, int4").isInstanceOf(Number.class);

                for (String named : List.of("version", "versionAgain", "afterError")) {
                    Map<String, Object> version = result(out, named);
                    assertThat(fields(version)).as("SHOW VERSION (%s), extended protocol, %s", named, who)
                            .isEqualTo(declared(ShowTable.VERSION));
                    assertThat(rows(version)).hasSize(1);
                    assertThat((String) object(rows(version).getFirst()).get("version")).startsWith("pgmux ");
                }

                Map<String, Object> totals = result(out, "statsTotals");
                assertThat(fields(totals)).as("SHOW STATS_TOTALS fields, unnamed extended, %s", who)
                        .isEqualTo(declared(ShowTable.STATS_TOTALS));
                Map<String, Object> stats = rows(totals).stream().map(NodePostgresConsoleTest::object)
                        .filter(r -> POOL_DATABASE.equals(r.get("database"))).findFirst()
                        .orElseThrow(() -> new AssertionError("no statistics of " + POOL_DATABASE + " in " + totals));
                assertThat(Long.parseLong((String) stats.get("xact_count"))).as("numeric, read as a string")
                        .isGreaterThanOrEqualTo(1);

                assertThat(object(out.get("invalid")).get("error")).as("an unknown SHOW, extended protocol")
                        .isEqualTo("42601");
            }
        }
    }

    private static Map<String, Object> queries(Port port, UserConfig user) throws Exception {
        String stdout = NodePostgres.run("console-queries.js", Map.of(
                "PGHOST", "127.0.0.1", "PGPORT", Integer.toString(port.of(pgmux.get())), "PGUSER", user.name(),
                "PGPASSWORD", user.password(), "PGDATABASE", "pgbouncer", "PGSSLMODE", "disable",
                "PGAPPNAME", "node-postgres-test"), 60);
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return object(new Yaml(new SafeConstructor(options)).load(stdout)); // JSON, read as the YAML it also is
    }

    /** The fields as node-postgres reports them: name and dataTypeID. */
    private static List<Map<String, Object>> fields(Map<String, Object> result) {
        return ((List<?>) result.get("fields")).stream().map(NodePostgresConsoleTest::object).toList();
    }

    private static List<Map<String, Object>> declared(ShowTable show) {
        return show.columns().stream()
                .map(c -> Map.<String, Object>of("name", c.name(), "dataTypeID", c.type().oid())).toList();
    }

    private static Map<String, Object> result(Map<String, Object> out, String name) {
        assertThat(out).as("node-postgres's results").containsKey(name);
        return object(out.get(name));
    }

    private static List<?> rows(Map<String, Object> result) {
        return (List<?>) result.get("rows");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }
}
