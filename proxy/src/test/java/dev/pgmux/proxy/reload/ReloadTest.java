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
import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.serverPid;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TcpRelay;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Reloading the configuration, one behaviour at a time: nothing a connected client does is disturbed, the
 * new settings hold for what happens next, and a configuration with problems changes nothing.
 */
@Timeout(90)
class ReloadTest {

    private static ServerPool.Stats stats(PgmuxHarness pgmux, String tenant, TestRole role) {
        return pgmux.server().runtime().pools().all().stream()
                .filter(p -> p.key().tenant().equals(tenant) && p.key().user().equals(role.name()))
                .findFirst().orElseThrow(() -> new AssertionError("no pool of " + role.name() + "." + tenant)).stats();
    }

    private static ReloadResult.Applied applied(ReloadResult result) {
        assertThat(result).as(result.text()).isInstanceOf(ReloadResult.Applied.class);
        return (ReloadResult.Applied) result;
    }

    @Test
    void anInvalidFileIsRefusedWithEveryProblemAndTheRunningConfigurationServesOn(@TempDir Path dir) throws Exception {
        TestRole role = role("reload_invalid", "invalid_pw");
        Path file = dir.resolve("pgmux.yaml");
        write(file, config(tenant("acme", role).withPoolSize(3)));
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConfigLoader.load(file));
             Connection connected = connect(pgmux, Port.TRANSACTION, "acme", role)) {
            pgmux.server().configFile(file);
            Files.writeString(file, Files.readString(file).replace("pool_size: 3", "pool_size: 0")
                    .replace("    min_idle: 0", "    min_idle: 0\n    pool_sise: 4"));

            ReloadResult result = pgmux.server().reload();

            assertThat(result).isInstanceOf(ReloadResult.Refused.class);
            ReloadResult.Refused refused = (ReloadResult.Refused) result;
            assertThat(refused.summary()).contains(file.toString());
            assertThat(refused.problems()).hasSize(2)
                    .anySatisfy(p -> assertThat(p).startsWith("tenants[0].pool_size: must be > 0, got 0"))
                    .anySatisfy(p -> assertThat(p).startsWith("tenants[0].pool_sise: unknown key"));
            HttpResponse<String> http = admin(pgmux, "POST", "/reload");
            assertThat(http.statusCode()).isEqualTo(422);
            assertThat(http.body()).contains("reload refused").contains(file.toString())
                    .contains("tenants[0].pool_size: must be > 0, got 0").contains("tenants[0].pool_sise: unknown key");

            // The running configuration stays, and serves old and new clients.
            assertThat(pgmux.server().runtime().config().tenant("acme").orElseThrow().poolSize()).isEqualTo(3);
            assertThat(poolLine(pgmux, "acme", role)).contains(" size=3 ");
            assertThat(text(connected, "SELECT current_user")).isEqualTo(role.name());
            try (Connection fresh = connect(pgmux, Port.SESSION, "acme", role)) {
                assertThat(text(fresh, "SELECT 'still serving'")).isEqualTo("still serving");
            }

            Files.delete(file);
            ReloadResult missing = pgmux.server().reload();
            assertThat(missing).isInstanceOf(ReloadResult.Refused.class);
            assertThat(((ReloadResult.Refused) missing).problems()).containsExactly(file + ": file not found");
            assertThat(text(connected, "SELECT 'after'")).isEqualTo("after");
        }
    }

    @Test
    void poolSizeDownThenUpIsSeenUpstreamWithoutDroppingAClient() throws Exception {
        TestRole role = role("reload_size", "size_pw");
        TenantConfig tenant = tenant("acme", role).withPoolSize(4);
        PgmuxConfig config = config(tenant);
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            List<Connection> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                clients.add(connect(pgmux, Port.SESSION, "acme", role)); // a session client holds its server
            }
            Wait.until("4 backends upstream", () -> backends(role) == 4);

            ReloadResult.Applied down = applied(pgmux.server().reload(config.withTenants(List.of(tenant.withPoolSize(2)))));

            assertThat(down.changes()).containsExactly("tenants[acme].pool_size: 4 -> 2");
            for (Connection c : clients) {
                assertThat(text(c, "SELECT 'kept'")).as("a connected client after the pool shrank").isEqualTo("kept");
            }
            assertThat(backends(role)).as("servers in use stay until released").isEqualTo(4);
            assertThat(poolLine(pgmux, "acme", role)).contains(" size=2 ");

            clients.remove(0).close();
            clients.remove(0).close();
            Wait.until("the servers of the two clients that left closed", () -> backends(role) == 2,
                    () -> String.valueOf(stats(pgmux, "acme", role)));
            clients.remove(0).close();
            Wait.until("the third client's server back in the pool, kept (2 = the size)",
                    () -> stats(pgmux, "acme", role).idle() == 1);
            assertThat(backends(role)).isEqualTo(2);

            applied(pgmux.server().reload(config.withTenants(List.of(tenant.withPoolSize(1)))));
            Wait.until("the idle server beyond the new size closed at once", () -> backends(role) == 1);
            assertThat(text(clients.get(0), "SELECT 'still here'")).isEqualTo("still here");

            // Two clients wait for the one server; growing the pool serves them at once.
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Connection>> waiting = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    waiting.add(threads.submit(() -> connect(pgmux, Port.SESSION, "acme", role)));
                }
                Wait.until("two clients waiting for a server", () -> stats(pgmux, "acme", role).waiting() == 2,
                        () -> String.valueOf(stats(pgmux, "acme", role)));

                applied(pgmux.server().reload(config.withTenants(List.of(tenant.withPoolSize(5)))));

                for (Future<Connection> login : waiting) {
                    clients.add(login.get(5, TimeUnit.SECONDS));
                }
            }
            assertThat(backends(role)).isEqualTo(3);
            assertThat(poolLine(pgmux, "acme", role)).contains(" size=5 ");
            for (Connection c : clients) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
                c.close();
            }
        }
    }

    @Test
    void aChangedPasswordHoldsForNewLoginsWhileConnectedClientsGoOn() throws Exception {
        TestRole before = role("reload_password", "password_one");
        TenantConfig tenant = tenant("acme", before);
        PgmuxConfig config = config(tenant);
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection session = connect(pgmux, Port.SESSION, "acme", before);
             Connection transaction = connect(pgmux, Port.TRANSACTION, "acme", before)) {
            int sessionPid = serverPid(session);
            TestRole after = alterPassword(before, "password_two");

            ReloadResult.Applied result = applied(pgmux.server().reload(
                    config.withTenants(List.of(tenant.withUsers(List.of(new UserConfig(after.name(), after.password())))))));

            assertThat(result.changes()).containsExactly("tenants[acme].users[reload_password].password: changed");
            assertThat(result.text()).doesNotContain("password_one").doesNotContain("password_two");
            assertThat(serverPid(session)).as("the session client keeps its server").isEqualTo(sessionPid);
            assertThat(text(transaction, "SELECT current_user")).isEqualTo(before.name());
            for (Port port : Port.values()) {
                try (Connection fresh = connect(pgmux, port, "acme", after)) {
                    assertThat(text(fresh, "SELECT current_user")).as("a login with the new password, %s", port)
                            .isEqualTo(after.name());
                }
                PSQLException refused = serverError(() -> connect(pgmux, port, "acme", before).close());
                assertThat(refused.getSQLState()).as("a login with the old password, %s", port).isEqualTo("28P01");
            }
            assertThat(text(transaction, "SELECT 'on'")).isEqualTo("on");
            assertThat(serverPid(session)).isEqualTo(sessionPid);
        }
    }

    @Test
    void changedCredentialsCloseOldServersOnlyAsTheyAreReleased() throws Exception {
        TestRole before = role("reload_credentials", "credentials_one");
        TenantConfig tenant = tenant("acme", before).withPoolSize(3);
        PgmuxConfig config = config(tenant);
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection transaction = connect(pgmux, Port.TRANSACTION, "acme", before)) {
            Connection session = connect(pgmux, Port.SESSION, "acme", before); // closed below, or with pgmux
            int sessionPid = serverPid(session);
            transaction.setAutoCommit(false);
            int transactionPid = serverPid(transaction); // held until COMMIT
            TestRole after = alterPassword(before, "credentials_two");

            applied(pgmux.server().reload(
                    config.withTenants(List.of(tenant.withUsers(List.of(new UserConfig(after.name(), after.password())))))));

            assertThat(backendAlive(sessionPid)).as("the session client's server, in use").isTrue();
            assertThat(backendAlive(transactionPid)).as("the server of a transaction in progress").isTrue();
            try (Statement st = transaction.createStatement()) {
                st.execute("CREATE TEMP TABLE t (x int)");
                st.execute("INSERT INTO t VALUES (1)");
            }
            assertThat(serverPid(transaction)).isEqualTo(transactionPid);
            transaction.commit();
            Wait.until("the transaction's old server closed once released", () -> !backendAlive(transactionPid));
            transaction.setAutoCommit(true);
            assertThat(serverPid(transaction)).as("a server logged in with the new password").isNotEqualTo(transactionPid);

            assertThat(serverPid(session)).isEqualTo(sessionPid);
            session.close();
            Wait.until("the session client's old server closed once released", () -> !backendAlive(sessionPid));
            try (Connection next = connect(pgmux, Port.SESSION, "acme", after)) {
                assertThat(serverPid(next)).isNotEqualTo(sessionPid);
            }
        }
    }

    @Test
    void aChangedUpstreamAddressServesNewServersWhileOldOnesFinishThere() throws Exception {
        TestRole role = role("reload_address", "address_pw");
        TenantConfig tenant = tenant("acme", role).withPoolSize(3);
        PgmuxConfig config = config(tenant);
        TestPostgres pg = TestPostgres.get();
        try (TcpRelay relay = new TcpRelay(pg.host(), pg.port());
             PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection transaction = connect(pgmux, Port.TRANSACTION, "acme", role)) {
            Connection session = connect(pgmux, Port.SESSION, "acme", role); // closed below, or with pgmux
            int sessionPid = serverPid(session);
            assertThat(text(transaction, "SELECT 1")).isEqualTo("1"); // its server is idle in the pool after this
            Wait.until("two backends", () -> backends(role) == 2);

            ReloadResult.Applied result = applied(pgmux.server().reload(config.withTenants(List.of(
                    tenant.withUpstream(new UpstreamConfig(pg.host(), relay.port(), "postgres"))))));

            assertThat(result.changes()).containsExactly(
                    "tenants[acme].upstream.port: " + pg.port() + " -> " + relay.port());
            Wait.until("the idle server of the old address closed at once", () -> backends(role) == 1);
            assertThat(relay.accepted()).isZero();
            assertThat(text(transaction, "SELECT 'via the new address'")).isEqualTo("via the new address");
            assertThat(relay.accepted()).as("servers opened through the new address").isEqualTo(1);

            // The session client's server, of the old address, still runs its queries, and a cancel reaches it there.
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
                 Statement st = session.createStatement()) {
                Future<?> sleeping = threads.submit(() -> st.execute("SELECT pg_sleep(30)"));
                Wait.until("the session's statement running", () -> Pgjdbc.running("SELECT pg_sleep(30)") == 1);
                st.cancel();
                Throwable cancelled = catchThrowable(() -> sleeping.get(10, TimeUnit.SECONDS));
                assertThat(cancelled).hasCauseInstanceOf(PSQLException.class);
                assertThat(((PSQLException) cancelled.getCause()).getSQLState()).isEqualTo("57014");
            }
            assertThat(serverPid(session)).isEqualTo(sessionPid);
            session.close();
            Wait.until("the session client's server closed once released", () -> !backendAlive(sessionPid));
            assertThat(relay.accepted()).isEqualTo(1);
        }
    }

    @Test
    void aRemovedTenantsClientsFinishWhileNewLoginsAreRefused() throws Exception {
        TestRole kept = role("reload_kept", "kept_pw");
        TestRole gone = role("reload_gone", "gone_pw");
        TenantConfig keep = tenant("keep", kept);
        PgmuxConfig config = config(keep, tenant("gone", gone));
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            // Closed below, or with pgmux.
            Connection inTransaction = connect(pgmux, Port.TRANSACTION, "gone", gone);
            Connection session = connect(pgmux, Port.SESSION, "gone", gone);
            inTransaction.setAutoCommit(false);
            int pid = serverPid(inTransaction);
            assertThat(text(session, "SELECT 1")).isEqualTo("1");

            ReloadResult.Applied result = applied(pgmux.server().reload(config.withTenants(List.of(keep))));

            assertThat(result.changes()).containsExactly("tenants[gone]: removed");
            for (Port port : Port.values()) {
                PSQLException refused = serverError(() -> connect(pgmux, port, "gone", gone).close());
                assertThat(refused.getSQLState()).isEqualTo("28000");
                assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("Tenant or user not found");
                try (Connection other = connect(pgmux, port, "keep", kept)) {
                    assertThat(text(other, "SELECT 'unchanged'")).isEqualTo("unchanged");
                }
            }
            assertThat(poolLine(pgmux, "gone", gone)).contains(" retired ");
            // The connected clients finish what they do, and may go on until they leave.
            assertThat(serverPid(inTransaction)).isEqualTo(pid);
            inTransaction.commit();
            assertThat(text(inTransaction, "SELECT 'next transaction'")).isEqualTo("next transaction");
            inTransaction.commit();
            assertThat(text(session, "SELECT 'session'")).isEqualTo("session");

            inTransaction.close();
            session.close();
            Wait.until("the removed tenant's pools gone, with their servers", () -> backends(gone) == 0
                    && pgmux.server().runtime().pools().all().stream().noneMatch(p -> p.key().tenant().equals("gone")),
                    pgmux::describePools);
        }
    }

    @Test
    void settingsReadAtLoginHoldForTheNextLogin() throws Exception {
        TestRole role = role("reload_login", "login_pw");
        TenantConfig tenant = tenant("acme", role).withMaxClients(1);
        PgmuxConfig config = config(tenant);
        try (PgmuxHarness pgmux = PgmuxHarness.start(config)) {
            PSQLException noDatabase = serverError(() -> DriverManager.getConnection(
                    Port.SESSION.jdbcUrl(pgmux, TestPostgres.OTHER_DATABASE), role.name() + ".acme", role.password()).close());
            assertThat(noDatabase.getSQLState()).isEqualTo("3D000");
            // The refused login held a max_clients slot until its connection closed, after the client read its error.
            Wait.until("the refused login's slot given back",
                    () -> pgmux.server().runtime().tenants().find("acme").clients() == 0);
            Connection first = connect(pgmux, Port.TRANSACTION, "acme", role);
            PSQLException full = serverError(() -> connect(pgmux, Port.TRANSACTION, "acme", role).close());
            assertThat(full.getSQLState()).isEqualTo("53300");

            applied(pgmux.server().reload(config.withTenants(List.of(tenant.withMaxClients(3)
                    .withDatabases(List.of("postgres", TestPostgres.OTHER_DATABASE))))));

            try (Connection second = connect(pgmux, Port.TRANSACTION, "acme", role);
                 Connection other = DriverManager.getConnection(
                         Port.SESSION.jdbcUrl(pgmux, TestPostgres.OTHER_DATABASE), role.name() + ".acme", role.password())) {
                assertThat(text(second, "SELECT 'second'")).isEqualTo("second");
                assertThat(text(other, "SELECT current_database()")).isEqualTo(TestPostgres.OTHER_DATABASE);
                assertThat(pgmux.server().runtime().tenants().find("acme").clients()).isEqualTo(3);
            }
            assertThat(text(first, "SELECT 'first'")).isEqualTo("first");
            first.close();
        }
    }

    /**
     * The prepared-statement handling is the one of the client's login, also for a client that had run no
     * statement before the reload (pgmux makes a client's statement state at its first statement): a named
     * statement of a client logged in before the reload still becomes a statement of pgmux's on the server
     * ({@code rewrite}), one of a client logged in after it does not ({@code strip}).
     */
    @Test
    void preparedStatementHandlingIsTheLoginsEvenForAClientThatRanNothingBeforeTheReload() throws Exception {
        TestRole role = role("reload_prepared", "prepared_pw");
        TenantConfig tenant = tenant("acme", role);
        PgmuxConfig config = config(tenant);
        try (PgmuxHarness pgmux = PgmuxHarness.start(config);
             Connection before = namedStatementsAlways(pgmux, role)) {
            applied(pgmux.server().reload(config.withTenants(List.of(tenant.withPreparedStatements(
                    tenant.preparedStatements().withMode(PreparedStatementMode.STRIP))))));
            try (Connection after = namedStatementsAlways(pgmux, role)) {
                assertThat(serverStatementsOf(before, "before")).as("logged in before the reload (rewrite)").isEqualTo(1);
                assertThat(serverStatementsOf(after, "after")).as("logged in after the reload (strip)").isZero();
            }
        }
    }

    /** pgjdbc on the transaction port, preparing every statement under a name from its first execution. */
    private static Connection namedStatementsAlways(PgmuxHarness pgmux, TestRole role) throws SQLException {
        Connection c = connect(pgmux, Port.TRANSACTION, "acme", role);
        c.unwrap(PGConnection.class).setPrepareThreshold(-1);
        return c;
    }

    /**
     * Runs a statement marked {@code mark} and counts the statements pgmux prepared on the same server (one
     * transaction) for its text.
     */
    private static long serverStatementsOf(Connection c, String mark) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1 AS " + mark)) {
            ps.setInt(1, 1);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
        // The text is spelt in two pieces so that this query, prepared too, is not counted.
        long count = Long.parseLong(text(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgmux\\_%'"
                + " AND statement = 'SELECT $1::int + 1 AS ' || '" + mark + "'"));
        c.commit();
        return count;
    }

    @Test
    void theHangupHandlerReloadsTheFile(@TempDir Path dir) throws Exception {
        TestRole role = role("reload_hangup", "hangup_pw");
        Path file = dir.resolve("pgmux.yaml");
        PgmuxConfig config = config(tenant("acme", role).withPoolSize(3));
        write(file, config);
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConfigLoader.load(file))) {
            // Installs the handler in this JVM (put back when pgmux closes); the signal itself is not sent.
            assertThat(pgmux.server().reloadOnHangup(file)).as("SIGHUP handled on this JVM").isTrue();
            write(file, config.withTenants(List.of(config.tenants().get(0).withPoolSize(4))));

            ReloadResult.Applied result = applied(pgmux.server().onHangup());

            assertThat(result.changes()).containsExactly("tenants[acme].pool_size: 3 -> 4");
            assertThat(pgmux.server().runtime().config().tenant("acme").orElseThrow().poolSize()).isEqualTo(4);
            assertThat(applied(pgmux.server().onHangup()).text()).isEqualTo("configuration reloaded: no changes");
        }
    }

    @Test
    void postReloadAnswersWhatChangedAndOtherMethodsAreRefused(@TempDir Path dir) throws Exception {
        TestRole role = role("reload_http", "http_pw");
        Path file = dir.resolve("pgmux.yaml");
        PgmuxConfig config = config(tenant("acme", role).withPoolSize(3));
        write(file, config);
        try (PgmuxHarness pgmux = PgmuxHarness.start(ConfigLoader.load(file))) {
            HttpResponse<String> noFile = admin(pgmux, "POST", "/reload");
            assertThat(noFile.statusCode()).as("no file to re-read yet").isEqualTo(422);

            pgmux.server().configFile(file);
            write(file, config.withListen(config.listen().withSessionPort(7777))
                    .withTenants(List.of(config.tenants().get(0).withPoolSize(6))));
            HttpResponse<String> post = admin(pgmux, "POST", "/reload");

            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.body()).contains("configuration reloaded (1 change)").contains("tenants[acme].pool_size: 3 -> 6")
                    .contains("listen.session_port: 0 -> 7777 (needs a restart; the running value is kept)");
            assertThat(pgmux.server().runtime().config().listen().sessionPort()).isZero();
            assertThat(admin(pgmux, "POST", "/reload").body()).contains("no changes");
            HttpResponse<String> get = admin(pgmux, "GET", "/reload");
            assertThat(get.statusCode()).isEqualTo(405);
            assertThat(get.headers().firstValue("allow")).contains("POST");
            try (Connection c = connect(pgmux, Port.TRANSACTION, "acme", role)) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
            }
        }
    }
}
