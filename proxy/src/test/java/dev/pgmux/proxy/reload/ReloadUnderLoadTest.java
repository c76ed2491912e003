package dev.pgmux.proxy.reload;

import static dev.pgmux.proxy.reload.ReloadFixture.admin;
import static dev.pgmux.proxy.reload.ReloadFixture.alterPassword;
import static dev.pgmux.proxy.reload.ReloadFixture.backends;
import static dev.pgmux.proxy.reload.ReloadFixture.config;
import static dev.pgmux.proxy.reload.ReloadFixture.connect;
import static dev.pgmux.proxy.reload.ReloadFixture.poolLine;
import static dev.pgmux.proxy.reload.ReloadFixture.role;
import static dev.pgmux.proxy.reload.ReloadFixture.tenant;
import static dev.pgmux.proxy.reload.ReloadFixture.write;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import dev.pgmux.config.ConsoleConfig;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Reloads under load: 50 clients (HikariCP pools over pgjdbc, transaction port) run short transactions while
 * the configuration file changes a pool's size down and up and down, adds a tenant and removes it, and
 * changes a user's password. No client sees an error, the unchanged tenant's servers are never touched, and
 * each new value is seen in effect upstream (pg_stat_activity), on the admin port ({@code /pools}) and in the
 * admin console (SHOW DATABASES, SHOW TENANTS).
 */
@Timeout(180)
class ReloadUnderLoadTest {

    /** One tenant's clients: a HikariCP pool of {@code size} connections, one thread per connection. */
    private static final class Clients implements AutoCloseable {
        final String name;
        final HikariDataSource pool;
        final List<Thread> threads = new ArrayList<>();
        final AtomicLong transactions = new AtomicLong();
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        volatile boolean stop;

        Clients(PgmuxHarness pgmux, String tenant, TestRole role, int size, String sleep) {
            this.name = tenant;
            HikariConfig config = new HikariConfig();
            config.setPoolName("load-" + tenant);
            config.setJdbcUrl(Port.TRANSACTION.jdbcUrl(pgmux, "postgres"));
            config.setUsername(role.name() + "." + tenant);
            config.setPassword(role.password());
            config.addDataSourceProperty("sslmode", "disable");
            config.addDataSourceProperty("socketTimeout", "60");
            config.setMaximumPoolSize(size);
            config.setMinimumIdle(size);
            config.setAutoCommit(false);
            config.setConnectionTimeout(30_000);
            this.pool = new HikariDataSource(config);
            for (int i = 0; i < size; i++) {
                Thread thread = new Thread(() -> run(sleep), "load-" + tenant + "-" + i);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }

        /** A transaction that keeps its server for a while, then some time without one. */
        private void run(String sleep) {
            while (!stop) {
                try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                    st.execute("SELECT pg_sleep(" + sleep + ")");
                    st.execute("SELECT 1");
                    c.commit();
                    transactions.incrementAndGet();
                } catch (SQLException e) {
                    errors.add(e.getSQLState() + " " + e.getMessage());
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // think time of a client
            }
        }

        /** Waits until these clients have completed {@code count} more transactions: they went on. */
        void await(int count) {
            long target = transactions.get() + count;
            Wait.until(count + " more transactions of " + name, Duration.ofSeconds(30),
                    () -> transactions.get() >= target, () -> transactions.get() + ", errors " + errors);
        }

        int connections() {
            return pool.getHikariPoolMXBean() == null ? 0 : pool.getHikariPoolMXBean().getTotalConnections();
        }

        @Override
        public void close() {
            finish();
        }

        /** Stops the clients after their current transaction and closes their connections; once is enough. */
        void finish() {
            stop = true;
            try {
                for (Thread thread : threads) {
                    thread.join(30_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pool.close();
        }
    }

    /** Every group of clients gets on with its work: {@code count} more transactions each. */
    private static void goOn(List<Clients> groups, int count) {
        groups.forEach(clients -> clients.await(count));
    }

    private static Set<Integer> pids(TestRole role) throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement("SELECT pid FROM pg_stat_activity WHERE usename = ?")) {
            ps.setString(1, role.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }

    private static Timestamp postgresNow() throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement();
             ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    /** Writes the file and reloads through the admin port, as an operator would; it must be applied. */
    private static String reload(PgmuxHarness pgmux, Path file, PgmuxConfig config) throws Exception {
        write(file, config);
        HttpResponse<String> answer = admin(pgmux, "POST", "/reload");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer.body();
    }

    private static int clientsOf(PgmuxHarness pgmux) {
        int clients = 0;
        for (Tenant tenant : pgmux.server().runtime().tenants().all()) {
            clients += tenant.clients();
        }
        return clients;
    }

    private static final UserConfig ADMIN = new UserConfig("load_admin", "load-admin-pw");

    /** One value of a console SHOW: the {@code column} of the row whose {@code keyColumn} is {@code key}. */
    private static String console(PgmuxHarness pgmux, String show, String keyColumn, String key, String column)
            throws SQLException {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", ADMIN.name());
        props.setProperty("password", ADMIN.password());
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("socketTimeout", "30");
        try (Connection c = java.sql.DriverManager.getConnection(Port.SESSION.jdbcUrl(pgmux, "pgbouncer"), props);
             Statement st = c.createStatement(); java.sql.ResultSet rows = st.executeQuery(show)) {
            while (rows.next()) {
                if (key.equals(rows.getString(keyColumn))) {
                    return rows.getString(column);
                }
            }
        }
        throw new AssertionError("no row with " + keyColumn + " = " + key + " in " + show);
    }

    @Test
    void fiftyClientsRunWhileTheFileChangesUnderThem(@TempDir Path dir) throws Exception {
        TestRole steady = role("load_steady", "steady_pw");
        TestRole resize = role("load_resize", "resize_pw");
        TestRole rotate = role("load_rotate", "rotate_one");
        TestRole extra = role("load_extra", "extra_pw");
        TenantConfig steadyTenant = tenant("steady", steady).withPoolSize(5);
        TenantConfig resizeTenant = tenant("resize", resize).withPoolSize(4);
        TenantConfig rotateTenant = tenant("rotate", rotate).withPoolSize(3);
        TenantConfig extraTenant = tenant("extra", extra).withPoolSize(2);
        PgmuxConfig config = config(steadyTenant, resizeTenant, rotateTenant)
                .withConsole(new ConsoleConfig(List.of(ADMIN), List.of()));
        Path file = dir.resolve("pgmux.yaml");
        write(file, config);
        long started = System.nanoTime();
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConfigLoader.load(file))) {
            pgmux.server().configFile(file);
            Tenant steadyRuntime = pgmux.server().runtime().tenants().find("steady");
            try (Clients steadyClients = new Clients(pgmux, "steady", steady, 20, "0.01");
                 Clients resizeClients = new Clients(pgmux, "resize", resize, 15, "0.02");
                 Clients rotateClients = new Clients(pgmux, "rotate", rotate, 10, "0.02")) {
                List<Clients> unchanged = List.of(steadyClients, resizeClients, rotateClients);
                goOn(unchanged, 50);
                Wait.until("the unchanged tenant's pool full", () -> backends(steady) == 5);
                Set<Integer> steadyServers = pids(steady);

                // The resized pool shrinks as its servers come back; a tenant is added and gets clients.
                String shrunk = reload(pgmux, file, config.withTenants(List.of(steadyTenant, resizeTenant.withPoolSize(2),
                        rotateTenant, extraTenant)));
                assertThat(shrunk).contains("tenants[resize].pool_size: 4 -> 2").contains("tenants[extra]: added");
                Wait.until("the resized pool down to 2 servers upstream", () -> backends(resize) == 2);
                assertThat(poolLine(pgmux, "resize", resize)).contains(" size=2 ");
                assertThat(console(pgmux, "SHOW DATABASES", "name", "postgres.resize", "pool_size")).isEqualTo("2");
                assertThat(console(pgmux, "SHOW TENANTS", "id", "extra", "id")).isEqualTo("extra");
                try (Clients extraClients = new Clients(pgmux, "extra", extra, 5, "0.01")) {
                    List<Clients> all = List.of(steadyClients, resizeClients, rotateClients, extraClients);
                    goOn(all, 60);
                    Wait.until("50 clients connected through pgmux", () -> clientsOf(pgmux) == 50
                            && extraClients.connections() == 5, () -> String.valueOf(clientsOf(pgmux)));

                    // It grows again, at once: its clients are waiting.
                    reload(pgmux, file, config.withTenants(List.of(steadyTenant, resizeTenant.withPoolSize(6),
                            rotateTenant, extraTenant)));
                    Wait.until("the resized pool up to 6 servers upstream", () -> backends(resize) == 6);
                    assertThat(poolLine(pgmux, "resize", resize)).contains(" size=6 ");
                    assertThat(console(pgmux, "SHOW DATABASES", "name", "postgres.resize", "pool_size")).isEqualTo("6");
                    goOn(all, 60);

                    // A password changes: the operator changes it in Postgres, then in the file.
                    TestRole rotated = alterPassword(rotate, "rotate_two");
                    Timestamp beforeReload = postgresNow();
                    String changed = reload(pgmux, file, config.withTenants(List.of(steadyTenant,
                            resizeTenant.withPoolSize(6), rotateTenant.withUsers(List.of(new UserConfig(rotated.name(),
                                    rotated.password()))), extraTenant)));
                    assertThat(changed).contains("tenants[rotate].users[load_rotate].password: changed")
                            .doesNotContain("rotate_two");
                    Wait.until("every server of the rotated user logged in again with the new password", () ->
                            superuserCount("SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND backend_start < ?",
                                    rotate.name(), beforeReload) == 0 && backends(rotate) > 0);
                    goOn(all, 60);
                    try (Connection fresh = connect(pgmux, Port.TRANSACTION, "rotate", rotated)) {
                        assertThat(text(fresh, "SELECT current_user")).isEqualTo(rotate.name());
                    }
                    PSQLException oldPassword = serverError(() -> connect(pgmux, Port.TRANSACTION, "rotate", rotate).close());
                    assertThat(oldPassword.getSQLState()).isEqualTo("28P01");

                    // The added tenant is removed: new logins are refused, its connected clients go on.
                    PgmuxConfig last = config.withTenants(List.of(steadyTenant, resizeTenant.withPoolSize(6),
                            rotateTenant.withUsers(List.of(new UserConfig(rotated.name(), rotated.password())))));
                    assertThat(reload(pgmux, file, last)).contains("tenants[extra]: removed");
                    PSQLException refused = serverError(() -> connect(pgmux, Port.TRANSACTION, "extra", extra).close());
                    assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("Tenant or user not found");
                    assertThat(poolLine(pgmux, "extra", extra)).contains(" retired ");
                    goOn(all, 60);
                    extraClients.finish();
                    assertThat(extraClients.errors).as("errors of the removed tenant's connected clients").isEmpty();
                    Wait.until("the removed tenant's servers closed once its clients left", () -> backends(extra) == 0);

                    // And the resized pool shrinks once more.
                    reload(pgmux, file, last.withTenants(List.of(steadyTenant, resizeTenant.withPoolSize(3),
                            last.tenants().get(2))));
                    Wait.until("the resized pool down to 3 servers upstream", () -> backends(resize) == 3);
                }
                goOn(unchanged, 60);
                steadyClients.stop = true;
                assertThat(pids(steady)).as("the unchanged tenant's servers, never closed").isEqualTo(steadyServers);
                assertThat(pgmux.server().runtime().tenants().find("steady")).isSameAs(steadyRuntime);
                for (Clients clients : unchanged) {
                    assertThat(clients.errors).as("errors of the clients of %s", clients.name).isEmpty();
                    assertThat(clients.transactions.get()).isPositive();
                }
            }
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("time taken").isLessThan(Duration.ofSeconds(60));
    }
}
