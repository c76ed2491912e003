package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.ConsoleSupport.STATS;
import static dev.pgmux.proxy.features.ConsoleSupport.connect;
import static dev.pgmux.proxy.features.ConsoleSupport.query;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.features.ConsoleSupport.Table;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the prometheus-community pgbouncer_exporter reads, query by query, as a stats user over the simple
 * protocol (its driver, lib/pq, sends argument-less queries that way): every column it maps is there, and a
 * number where it wants one (it parses them as floats; NULL is allowed). Its labels must make each row unique,
 * or Prometheus refuses the scrape.
 */
@Timeout(60)
class ConsoleExporterTest {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(ConsoleSupport::config);

    /** Per SHOW: the exporter's label columns, then its metric columns (from its collector.go). */
    private static final Map<String, List<List<String>>> MAPPED = Map.of(
            "DATABASES", List.of(List.of("name", "host", "port", "database", "force_user", "pool_mode"),
                    List.of("pool_size", "max_connections", "current_connections", "paused", "disabled")),
            "STATS_TOTALS", List.of(List.of("database"), List.of("query_count", "query_time", "bytes_received",
                    "bytes_sent", "wait_time", "xact_count", "xact_time", "client_parse_count", "server_parse_count",
                    "bind_count")),
            "POOLS", List.of(List.of("database", "user"), List.of("cl_active", "cl_active_cancel_req", "cl_waiting",
                    "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle",
                    "sv_used", "sv_tested", "sv_login", "maxwait")),
            "CLIENTS", List.of(List.of("user", "database", "state", "application_name"),
                    List.of("port", "wait", "wait_us", "prepared_statements", "id")));

    @ParameterizedTest
    @EnumSource(Port.class)
    void everythingTheExporterMapsIsThereAndNumeric(Port port) throws Exception {
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM);
             Connection exporter = connect(pgmux.get(), port, STATS, "simple")) {
            assertThat(text(tenant, "SELECT 1")).isEqualTo("1");
            query(exporter, "SHOW STATS"); // its connection check

            Table version = query(exporter, "SHOW VERSION;");
            assertThat(version.columns()).containsExactly("version:text");

            Table lists = query(exporter, "SHOW LISTS;");
            assertThat(lists.columns()).hasSize(2);
            lists.column("items").forEach(ConsoleExporterTest::assertNumber);
            assertThat(lists.column("list")).contains("databases", "users", "pools", "free_clients", "used_clients",
                    "login_clients", "free_servers", "used_servers", "dns_names", "dns_zones", "dns_queries");

            Table config = query(exporter, "SHOW CONFIG;");
            assertThat(config.columns()).hasSize(4);
            assertNumber(config.value("key", "max_client_conn", "value"));
            assertNumber(config.value("key", "max_user_connections", "value"));

            for (Map.Entry<String, List<List<String>>> show : MAPPED.entrySet()) {
                Table table = query(exporter, "SHOW " + show.getKey() + ";");
                assertThat(table.rows()).as(show.getKey()).isNotEmpty();
                List<String> labels = show.getValue().get(0);
                Set<List<String>> labelSets = new HashSet<>();
                for (List<String> row : table.rows()) {
                    labelSets.add(labels.stream().map(l -> row.get(table.index(l))).toList());
                    for (String metric : show.getValue().get(1)) {
                        String value = row.get(table.index(metric));
                        if (value != null) {
                            assertNumber(value);
                        }
                    }
                }
                if (!show.getKey().equals("CLIENTS")) {
                    assertThat(labelSets).as("%s rows told apart by their labels", show.getKey())
                            .hasSize(table.rows().size());
                }
            }
        }
    }

    private static void assertNumber(String value) {
        assertThat(value).isNotNull();
        Double.parseDouble(value);
    }
}
