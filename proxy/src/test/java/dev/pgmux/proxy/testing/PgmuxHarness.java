package dev.pgmux.proxy.testing;

import dev.pgmux.config.IoTransport;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.PgmuxServer;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * A pgmux started in-process on free ports in front of {@link TestPostgres}, with one tenant
 * {@value #TENANT} whose users are the fixture's roles (same names and passwords; the trust role logs in
 * to pgmux with {@value #TRUST_PASSWORD}).
 */
public final class PgmuxHarness implements AutoCloseable {
    public static final String TENANT = "acme";
    public static final String TRUST_PASSWORD = "trust_pass";

    private final PgmuxServer server;
    private boolean closed;

    private PgmuxHarness(PgmuxServer server) {
        this.server = server;
    }

    /** The tenant every test starts from: all fixture roles, pool size 5, defaults elsewhere. */
    public static TenantConfig defaultTenant() {
        TestPostgres pg = TestPostgres.get();
        return TenantConfig.of(TENANT, UpstreamConfig.of(pg.host(), pg.port()), List.of(
                        user(TestPostgres.SCRAM), user(TestPostgres.MD5), user(TestPostgres.PLAIN),
                        new UserConfig(TestPostgres.TRUST.name(), TRUST_PASSWORD)))
                .withPoolSize(5);
    }

    public static PgmuxHarness start() {
        return start(UnaryOperator.identity());
    }

    public static PgmuxHarness start(UnaryOperator<TenantConfig> tenant) {
        return start(PgmuxConfig.ephemeral(tenant.apply(defaultTenant())));
    }

    /**
     * Starts pgmux for a test. Its transport is the configured one, by default the best available (io_uring
     * here); {@code -Dpgmux.test.transport=epoll} (or {@code nio}) runs the tests on another, as the build's
     * second pass over the proxy tests does.
     */
    public static PgmuxHarness start(PgmuxConfig config) {
        if (config.listen().transport() == IoTransport.AUTO) {
            config = config.withListen(config.listen().withTransport(testTransport()));
        }
        // Two event loops at least, whatever the machine: clients and servers on different loops get exercised.
        int ioThreads = config.listen().ioThreads() > 0 ? config.listen().ioThreads() : 2;
        return new PgmuxHarness(PgmuxServer.start(config, ioThreads));
    }

    /** The transport tests run on unless they name one: {@code -Dpgmux.test.transport}, else {@code auto}. */
    public static IoTransport testTransport() {
        String transport = System.getProperty("pgmux.test.transport", "");
        return transport.isBlank() ? IoTransport.AUTO : IoTransport.valueOf(transport.trim().toUpperCase(Locale.ROOT));
    }

    private static UserConfig user(TestRole role) {
        return new UserConfig(role.name(), role.password());
    }

    public PgmuxServer server() {
        return server;
    }

    public int sessionPort() {
        return server.sessionPort();
    }

    public String sessionJdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + sessionPort() + "/" + database;
    }

    /** The user name a client gives to reach this role through the tenant: {@code role.acme}. */
    public static String tenantUser(TestRole role) {
        return role.name() + "." + TENANT;
    }

    public static String password(TestRole role) {
        return role == TestPostgres.TRUST ? TRUST_PASSWORD : role.password();
    }

    /** A pgjdbc connection through the session port to database postgres. */
    public Connection connect(TestRole role) throws SQLException {
        return connect(role, new Properties());
    }

    public Connection connect(TestRole role, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", tenantUser(role));
        props.setProperty("password", password(role));
        props.setProperty("sslmode", "disable");
        props.putAll(extra);
        return DriverManager.getConnection(sessionJdbcUrl("postgres"), props);
    }

    public int transactionPort() {
        return server.transactionPort();
    }

    public String transactionJdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + transactionPort() + "/" + database;
    }

    /** The properties of a pgjdbc login as {@code role} through the tenant, plain TCP, plus {@code extra}. */
    public static Properties loginProperties(TestRole role, Properties extra) {
        Properties props = new Properties();
        props.setProperty("user", tenantUser(role));
        props.setProperty("password", password(role));
        props.setProperty("sslmode", "disable");
        props.putAll(extra);
        return props;
    }

    /** A pgjdbc connection through the transaction port to database postgres. */
    public Connection connectTransaction(TestRole role) throws SQLException {
        return connectTransaction(role, new Properties());
    }

    public Connection connectTransaction(TestRole role, Properties extra) throws SQLException {
        return DriverManager.getConnection(transactionJdbcUrl("postgres"), loginProperties(role, extra));
    }

    /** The pool of {@code role} on database postgres, if a client of that role ever needed one. */
    public Optional<ServerPool> pool(TestRole role) {
        return server.runtime().pools().all().stream()
                .filter(p -> p.key().user().equals(role.name()) && p.key().database().equals("postgres"))
                .findFirst();
    }

    /** The counts of {@code role}'s pool; fails when it has none. */
    public ServerPool.Stats stats(TestRole role) {
        return pool(role).orElseThrow(() -> new AssertionError("no pool for " + role.name())).stats();
    }

    /** No pool holds a server, open or in use: what a pool shows once its upstream died. */
    public boolean allServersGone() {
        for (ServerPool pool : server().runtime().pools().all()) {
            ServerPool.Stats s = pool.stats();
            if (s.open() != 0 || s.active() != 0) {
                return false;
            }
        }
        return true;
    }

    /** Every pool with its counts, for failure messages. */
    public String describePools() {
        return String.join("; ", server.runtime().pools().all().stream().map(p -> p.key() + " " + p.stats()).toList());
    }

    /** The tenant {@value #TENANT}, with its count of clients. */
    public Tenant tenant() {
        for (Tenant tenant : server.runtime().tenants().all()) {
            if (tenant.id().equals(TENANT)) {
                return tenant;
            }
        }
        throw new AssertionError("no tenant " + TENANT);
    }

    /** The status code of an HTTP GET of {@code path} on pgmux's admin port. */
    public int adminGet(String path) throws IOException, InterruptedException {
        return adminResponse(path).statusCode();
    }

    /** GET on the admin port: the whole answer. */
    public HttpResponse<String> adminResponse(String path) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Waits until {@code role}'s pool has {@code idle} idle servers and none in use or connecting (a client's
     * server goes back to the pool after the client has left, not as it leaves).
     */
    public void awaitIdle(TestRole role, int idle, Duration max) {
        Wait.until("pool of " + role.name() + " with " + idle + " idle server(s) and none active", max, () -> {
            ServerPool.Stats s = stats(role);
            return s.idle() == idle && s.active() == 0 && s.connecting() == 0;
        }, () -> String.valueOf(pool(role).map(ServerPool::stats).orElse(null)));
    }

    /** Waits until {@code role}'s pool has no server in use, connecting, being cancelled or closing. */
    public void awaitQuiet(TestRole role) {
        Wait.until("pool of " + role.name() + " with no server in use", Wait.DEFAULT, () -> {
            ServerPool.Stats s = stats(role);
            return s.active() == 0 && s.connecting() == 0 && s.cancelling() == 0 && s.closing() == 0;
        }, () -> String.valueOf(pool(role).map(ServerPool::stats).orElse(null)));
    }

    /** Stops pgmux; once only, so a test may stop it early, before its try-with-resources block ends. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            server.close();
        }
    }
}
