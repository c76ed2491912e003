package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.features.ConsoleSupport.ADMIN;
import static dev.pgmux.proxy.features.ConsoleSupport.connect;
import static dev.pgmux.proxy.features.ConsoleSupport.query;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.sqlError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.ConfigFiles;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The console's commands as PgBouncer documents them, on both ports: PAUSE waits for the servers in use and
 * holds new work until RESUME; RECONNECT closes servers as they free up and WAIT_CLOSE waits for that; KILL
 * drops a database's clients and servers; KILL_CLIENT one client; RELOAD and SHUTDOWN go to the process.
 */
@Timeout(120)
class ConsoleCommandsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final String DB = "postgres." + PgmuxHarness.TENANT;

    private static void run(Connection console, String command) throws SQLException {
        try (Statement st = console.createStatement()) {
            st.execute(command);
        }
    }

    private static CompletableFuture<Void> runLater(Connection console, String command) {
        return CompletableFuture.runAsync(() -> {
            try {
                run(console, command);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String paused(Connection console) throws SQLException {
        return query(console, "SHOW DATABASES").value("name", DB, "paused");
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void pauseWaitsForServersInUseAndHoldsNewWorkUntilResume(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "extended");
             Connection watcher = connect(pgmux, port, ADMIN, "simple")) {
            Connection busy = port.connect(pgmux, ROLE);
            busy.setAutoCommit(false);
            assertThat(text(busy, "SELECT 'in a transaction'")).isEqualTo("in a transaction");

            CompletableFuture<Void> pause = runLater(console, "PAUSE " + DB);
            Wait.until("the database paused", () -> paused(watcher).equals("1"));
            assertThat(pause).as("PAUSE waits while a server is in use").isNotDone();

            busy.commit();
            busy.close(); // in session mode the server is the client's until it leaves
            pause.get(20, TimeUnit.SECONDS);
            assertThat(query(watcher, "SHOW SERVERS").rows()).as("no server left after PAUSE").isEmpty();

            CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> {
                try (Connection late = port.connect(pgmux, ROLE)) {
                    return text(late, "SELECT 'after resume'");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Wait.until("a new client waiting for a server", () -> pgmux.pool(ROLE).map(p -> p.stats().waiting() > 0)
                    .orElse(false), pgmux::describePools);
            assertThat(held).isNotDone();
            run(console, "RESUME " + DB);
            assertThat(held.get(20, TimeUnit.SECONDS)).isEqualTo("after resume");
            assertThat(paused(watcher)).isEqualTo("0");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void globalPauseShowsInStateAndResumes(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "extended")) {
            run(console, "PAUSE");
            assertThat(query(console, "SHOW STATE").value("key", "paused", "value")).isEqualTo("yes");
            assertThat(sqlError(() -> run(console, "PAUSE")).getMessage()).contains("already suspended/paused");
            run(console, "RESUME");
            assertThat(query(console, "SHOW STATE").value("key", "active", "value")).isEqualTo("yes");
            SQLException notPaused = sqlError(() -> run(console, "RESUME"));
            assertThat(notPaused.getSQLState()).isEqualTo("55000");
            assertThat(notPaused.getMessage()).contains("pooler is not paused/suspended");
            assertThat(sqlError(() -> run(console, "RESUME " + DB)).getMessage())
                    .contains("database " + DB + " is not paused");
            SQLException unknown = sqlError(() -> run(console, "PAUSE nosuch." + PgmuxHarness.TENANT));
            assertThat(unknown.getSQLState()).isEqualTo("3D000");
            assertThat(unknown.getMessage()).contains("no such database: nosuch." + PgmuxHarness.TENANT);
            assertThat(sqlError(() -> run(console, "PAUSE pgbouncer")).getMessage())
                    .contains("cannot pause admin db: pgbouncer");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void reconnectClosesServersOnceFreeAndWaitCloseWaitsForIt(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "extended");
             Connection watcher = connect(pgmux, port, ADMIN, "simple")) {
            Connection busy = port.connect(pgmux, ROLE);
            busy.setAutoCommit(false);
            int before = serverPid(busy);
            run(console, "RECONNECT " + DB);
            assertThat(query(watcher, "SHOW SERVERS").column("close_needed")).containsExactly("1");
            CompletableFuture<Void> waitClose = runLater(console, "WAIT_CLOSE " + DB);
            assertThat(text(watcher, "SHOW VERSION")).startsWith("pgmux"); // the console answers meanwhile
            assertThat(waitClose).as("WAIT_CLOSE waits while the marked server is in use").isNotDone();
            busy.commit();
            busy.close();
            waitClose.get(20, TimeUnit.SECONDS);
            try (Connection next = port.connect(pgmux, ROLE)) {
                assertThat(serverPid(next)).as("a new server").isNotEqualTo(before);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void killDropsTheDatabasesClientsAndServersUntilResume(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "extended");
             Connection victim = port.connect(pgmux, ROLE)) {
            int pid = serverPid(victim);
            run(console, "KILL " + DB);
            SQLException killed = sqlError(() -> text(victim, "SELECT 1"));
            assertThat(killed.getSQLState()).as("%s", killed).isIn("57P01", "08006", "08003");
            Wait.until("the server gone upstream", () -> !dev.pgmux.proxy.testing.Pgjdbc.backendAlive(pid));
            assertThat(paused(console)).isEqualTo("1");
            run(console, "RESUME " + DB);
            try (Connection after = port.connect(pgmux, ROLE)) {
                assertThat(text(after, "SELECT 'back'")).isEqualTo("back");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void killClientDisconnectsThatClientOnly(Port port) throws Exception {
        Properties named = new Properties();
        named.setProperty("ApplicationName", "to-be-killed");
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "extended");
             Connection victim = port.connect(pgmux, ROLE, named);
             Connection bystander = port.connect(pgmux, ROLE)) {
            String id = query(console, "SHOW CLIENTS").value("application_name", "to-be-killed", "id");
            run(console, "KILL_CLIENT " + id);
            SQLException killed = sqlError(() -> text(victim, "SELECT 1"));
            assertThat(killed.getSQLState()).as("%s", killed).isIn("57P01", "08006", "08003");
            assertThat(text(bystander, "SELECT 'unharmed'")).isEqualTo("unharmed");
            Wait.until("the client gone from SHOW CLIENTS", () -> !query(console, "SHOW CLIENTS")
                    .column("application_name").contains("to-be-killed"));
            assertThat(sqlError(() -> run(console, "KILL_CLIENT 999999")).getSQLState()).isEqualTo("42704");
            assertThat(sqlError(() -> run(console, "KILL_CLIENT abc")).getMessage())
                    .contains("invalid client pointer supplied");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void reloadAppliesTheFileOrRefusesItWithItsProblems(Port port) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("pgmux-console-reload", ".yaml");
        try {
            PgmuxConfig config = ConsoleSupport.config();
            ConfigFiles.write(file, config);
            try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
                pgmux.server().configFile(file);
                try (Connection console = connect(pgmux, port, ADMIN, "simple");
                     Connection client = port.connect(pgmux, TestPostgres.SCRAM)) {
                    assertThat(text(client, "SELECT 1")).isEqualTo("1");
                    ConfigFiles.write(file, config.withTenants(java.util.List.of(
                            config.tenants().get(0).withPoolSize(3))));
                    try (Statement s = console.createStatement()) {
                        s.execute("RELOAD");
                        assertThat((Object) s.getWarnings()).as("what the reload changed").isNotNull();
                        assertThat(s.getWarnings().getMessage()).contains("configuration reloaded")
                                .contains("pool_size");
                    }
                    assertThat(query(console, "SHOW DATABASES").value("name", "postgres." + PgmuxHarness.TENANT,
                            "pool_size")).isEqualTo("3");
                    java.nio.file.Files.writeString(file, java.nio.file.Files.readString(file)
                            .replace("pool_size: 3", "pool_size: -1"));
                    SQLException refused = sqlError(() -> run(console, "RELOAD"));
                    assertThat(refused.getSQLState()).isEqualTo("F0000");
                    assertThat(refused.getMessage()).contains("reload refused")
                            .contains("tenants[0].pool_size: must be > 0, got -1");
                    assertThat(text(client, "SELECT 2")).as("the client, through both reloads").isEqualTo("2");
                    assertThat(query(console, "SHOW DATABASES").value("name", "postgres." + PgmuxHarness.TENANT,
                            "pool_size")).as("the running configuration stays").isEqualTo("3");
                }
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void shutdownGoesToTheProcess(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConsoleSupport.config());
             Connection console = connect(pgmux, port, ADMIN, "simple")) {
            assertThat(sqlError(() -> run(console, "SHUTDOWN NOW")).getSQLState()).isEqualTo("42601");
            int clientPort = port.of(pgmux);
            run(console, "SHUTDOWN WAIT_FOR_CLIENTS");
            Wait.until("pgmux no longer listening", () -> refused(clientPort));
        }
    }

    private static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
