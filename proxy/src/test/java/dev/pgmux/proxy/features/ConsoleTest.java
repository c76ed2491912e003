package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.ConsoleSupport.ADMIN;
import static dev.pgmux.proxy.features.ConsoleSupport.STATS;
import static dev.pgmux.proxy.features.ConsoleSupport.connect;
import static dev.pgmux.proxy.features.ConsoleSupport.query;
import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.proxy.console.PgBouncerColumns;
import dev.pgmux.proxy.console.ShowTable;
import dev.pgmux.proxy.features.ConsoleSupport.PsqlRun;
import dev.pgmux.proxy.features.ConsoleSupport.Table;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * The admin console on the virtual database pgbouncer (and pgmux): every SHOW through pgjdbc, in the extended
 * protocol (Parse, Bind, Describe, Execute) and the simple one, and through psql, each with PgBouncer 1.25's
 * columns first; who may log in and what stats users may not do; errors as PgBouncer words them.
 */
@Timeout(120)
class ConsoleTest {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(ConsoleSupport::config);

    private static final List<String> MODES = List.of("extended", "simple");

    @ParameterizedTest
    @EnumSource(Port.class)
    void everyShowThroughPgjdbcStartsWithPgBouncersColumns(Port port) throws Exception {
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM)) {
            assertThat(text(tenant, "SELECT 'pooled'")).isEqualTo("pooled");
            for (String mode : MODES) {
                try (Connection console = connect(pgmux.get(), port, ADMIN, mode)) {
                    for (ShowTable show : ShowTable.values()) {
                        Table table = query(console, "SHOW " + show.name());
                        if (!PgBouncerColumns.PGMUX_ONLY.contains(show.name())) {
                            List<String> expected = PgBouncerColumns.of(show.name());
                            assertThat(table.columns()).as("%s in %s mode", show, mode).startsWith(
                                    expected.toArray(String[]::new));
                        }
                        assertThat(table.columns()).as("%s", show).hasSize(show.columns().size());
                        if (show != ShowTable.PREPARED_STATEMENTS && show != ShowTable.PEERS) { // one instance: no peer
                            assertThat(table.rows()).as("rows of %s in %s mode", show, mode).isNotEmpty();
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void everyShowThroughPsql(Port port) throws Exception {
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM)) {
            assertThat(text(tenant, "SELECT 1")).isEqualTo("1");
            for (ShowTable show : ShowTable.values()) {
                PsqlRun run = ConsoleSupport.psql(pgmux.get(), port, STATS, "SHOW " + show.name().toLowerCase(Locale.ROOT));
                assertThat(run.exit()).as("psql SHOW %s: %s", show, run.output()).isZero();
                String header = run.lines().getFirst();
                List<String> names = show.columns().stream().map(c -> c.name()).toList();
                assertThat(header).as("SHOW %s", show).isEqualTo(String.join("|", names));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void valuesArePgmuxsOwn(Port port) throws Exception {
        Properties named = new Properties();
        named.setProperty("ApplicationName", "console-test-" + port);
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM, named);
             Connection console = connect(pgmux.get(), port, ADMIN, "extended")) {
            assertThat(text(tenant, "SELECT 1")).isEqualTo("1");
            String database = "postgres." + PgmuxHarness.TENANT;

            Table pools = query(console, "SHOW POOLS");
            List<String> pool = pools.row("user", TestPostgres.SCRAM.name());
            assertThat(pool.get(pools.index("database"))).isEqualTo(database);
            assertThat(Integer.parseInt(pool.get(pools.index("cl_active")))).isGreaterThanOrEqualTo(1);
            assertThat(pool.get(pools.index("tenant"))).isEqualTo(PgmuxHarness.TENANT);

            Table clients = query(console, "SHOW CLIENTS");
            List<String> client = clients.row("application_name", "console-test-" + port);
            assertThat(client.get(clients.index("database"))).isEqualTo(database);
            assertThat(client.get(clients.index("user"))).isEqualTo(TestPostgres.SCRAM.name());
            assertThat(client.get(clients.index("pool_mode"))).isEqualTo(port.name().toLowerCase(Locale.ROOT));
            assertThat(client.get(clients.index("connect_time"))).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC");
            assertThat(clients.column("user")).as("the console's own client is listed").contains(ADMIN.name());

            Table servers = query(console, "SHOW SERVERS");
            assertThat(servers.column("database")).contains(database);
            // A server still logging in (state new: one of another test's, or min_idle's) has no process id yet.
            assertThat(servers.rows().stream().filter(row -> !row.get(servers.index("state")).equals("new"))
                    .map(row -> row.get(servers.index("remote_pid"))).toList())
                    .isNotEmpty().allSatisfy(pid -> assertThat(Integer.parseInt(pid)).isPositive());

            Table databases = query(console, "SHOW DATABASES");
            assertThat(databases.value("name", database, "host")).isEqualTo(TestPostgres.get().host());
            assertThat(databases.value("name", database, "pool_size")).isEqualTo("5");
            assertThat(databases.value("name", database, "paused")).isEqualTo("0");

            assertThat(query(console, "SHOW USERS").column("name")).contains(PgmuxHarness.tenantUser(TestPostgres.SCRAM));
            assertThat(query(console, "SHOW TENANTS").column("id")).containsExactly(PgmuxHarness.TENANT);
            assertThat(query(console, "SHOW VERSION").rows().getFirst().getFirst()).startsWith("pgmux ");
            assertThat(query(console, "SHOW STATE").value("key", "active", "value")).isEqualTo("yes");
            assertThat(query(console, "SHOW LISTS").value("list", "used_clients", "items")).isNotEqualTo("0");
            Table totals = query(console, "SHOW STATS_TOTALS");
            assertThat(Long.parseLong(totals.value("database", database, "query_count"))).isPositive();
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void preparedStatementsAreTheSharedOnes(Port port) throws Exception {
        Properties prepared = new Properties();
        prepared.setProperty("prepareThreshold", "-1"); // named statements from the first execution
        try (Connection tenant = port.connect(pgmux.get(), TestPostgres.SCRAM, prepared);
             Connection console = connect(pgmux.get(), port, ADMIN, "extended");
             var ps = tenant.prepareStatement("SELECT 'shown in the console' WHERE 1 = ?")) {
            ps.setInt(1, 1);
            ps.executeQuery().close();
            List<String> queries = query(console, "SHOW PREPARED_STATEMENTS").column("query");
            if (port == Port.TRANSACTION) {
                assertThat(queries).anySatisfy(q -> assertThat(q).contains("shown in the console"));
            } else {
                assertThat(queries).as("session mode shares no statements").noneMatch(q -> q.contains("shown in"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void unknownCommandsAndStatsUsersAreRefusedAsPgBouncerDoes(Port port) throws Exception {
        for (String mode : MODES) {
            try (Connection stats = connect(pgmux.get(), port, STATS, mode)) {
                SQLException unknown = sqlError(() -> query(stats, "SHOW NOTHING"));
                assertThat(unknown.getSQLState()).isEqualTo("42601");
                assertThat(unknown.getMessage()).contains("invalid command 'SHOW NOTHING', use SHOW HELP;");
                SQLException garbage = sqlError(() -> query(stats, "SELECT * FROM pg_class"));
                assertThat(garbage.getSQLState()).isEqualTo("42601");

                SQLException denied = sqlError(() -> stats.createStatement().execute("PAUSE"));
                assertThat(denied.getSQLState()).isEqualTo("42501");
                assertThat(denied.getMessage()).contains("admin access needed");
                assertThat(query(stats, "SHOW POOLS").columns()).isNotEmpty(); // still usable
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void onlyConsoleUsersGetIn(Port port) throws Exception {
        SQLException wrongPassword = sqlError(() -> connect(pgmux.get(), port, ADMIN.name(), "nope", "pgbouncer",
                "extended").close());
        assertThat(wrongPassword.getSQLState()).isEqualTo("28P01");
        SQLException unknown = sqlError(() -> connect(pgmux.get(), port, "nobody", "nope", "pgbouncer",
                "extended").close());
        assertThat(unknown.getSQLState()).isEqualTo("28P01");
        SQLException tenantUser = sqlError(() -> connect(pgmux.get(), port, PgmuxHarness.tenantUser(TestPostgres.SCRAM),
                TestPostgres.SCRAM.password(), "pgbouncer", "extended").close());
        assertThat(tenantUser.getSQLState()).isEqualTo("28000");
        assertThat(tenantUser.getMessage()).contains("may not use the admin console");
        try (Connection console = connect(pgmux.get(), port, ADMIN.name(), ADMIN.password(), "pgmux", "extended")) {
            assertThat(query(console, "SHOW VERSION").rows()).hasSize(1);
        }
        SQLException adminOnATenantDatabase = sqlError(() -> connect(pgmux.get(), port, ADMIN.name(),
                ADMIN.password(), "postgres", "extended").close());
        assertThat(adminOnATenantDatabase.getSQLState()).as("no default tenant: plain names are no tenant's")
                .isEqualTo("28000");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void theConsoleNeedsNoUpstream(Port port) throws Exception {
        var config = ConsoleSupport.config().withTenants(List.of(PgmuxHarness.defaultTenant()
                .withUpstream(UpstreamConfig.of("127.0.0.1", 1))));
        try (PgmuxHarness down = PgmuxHarness.start(config);
             Connection console = connect(down, port, ADMIN, "extended")) {
            assertThat(query(console, "SHOW DATABASES").column("port")).containsExactly("1");
            assertThat(query(console, "SHOW POOLS").rows()).isEmpty();
        }
    }

    /** SHOW CLIENTS' prepared_statements: on the transaction port, the named statements pgmux keeps for the client. */
    @org.junit.jupiter.api.Test
    void aClientsPreparedStatementsAreCounted() throws Exception {
        Properties eager = new Properties();
        eager.setProperty("prepareThreshold", "1");
        eager.setProperty("ApplicationName", "console-prepared");
        try (Connection tenant = Port.TRANSACTION.connect(pgmux.get(), TestPostgres.SCRAM, eager);
             Connection console = connect(pgmux.get(), Port.TRANSACTION, ADMIN, "simple")) {
            for (String sql : new String[]{"SELECT 1 + ?", "SELECT 2 + ?"}) {
                try (java.sql.PreparedStatement p = tenant.prepareStatement(sql)) {
                    p.setInt(1, 1);
                    p.executeQuery().close();
                }
            }
            assertThat(query(console, "SHOW CLIENTS").value("application_name", "console-prepared",
                    "prepared_statements")).isEqualTo("2");
        }
    }
}
