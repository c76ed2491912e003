package dev.pgmux.proxy.reload;

import dev.pgmux.config.Durations;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.proxy.testing.Pgjdbc;
import dev.pgmux.proxy.testing.ConfigFiles;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;

/**
 * What the reload tests share: login roles of their own in the test Postgres (so that pg_stat_activity shows
 * each tenant's servers apart), tenants made of them, configuration files written from configurations, and
 * the admin port's answers.
 */
final class ReloadFixture {
    private ReloadFixture() {}

    /** A login role of the test Postgres with this password, created or reset; pgmux logs in upstream as it. */
    static TestRole role(String name, String password) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            try {
                st.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
            } catch (SQLException e) {
                if (!"42710".equals(e.getSQLState())) { // duplicate_object: left by an earlier run
                    throw e;
                }
                st.execute("ALTER ROLE " + name + " LOGIN PASSWORD '" + password + "'");
            }
        }
        return new TestRole(name, password);
    }

    /** Changes the role's password in Postgres, as an operator does before reloading pgmux with it. */
    static TestRole alterPassword(TestRole role, String password) throws SQLException {
        try (Connection su = TestPostgres.get().superuser(); Statement st = su.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("ALTER ROLE " + role.name() + " PASSWORD '" + password + "'");
        }
        return new TestRole(role.name(), password);
    }

    /** A tenant in front of the test Postgres whose users are these roles, pool size 5. */
    static TenantConfig tenant(String id, TestRole... roles) {
        TestPostgres pg = TestPostgres.get();
        return TenantConfig.of(id, UpstreamConfig.of(pg.host(), pg.port()),
                        Arrays.stream(roles).map(r -> new UserConfig(r.name(), r.password())).toList())
                .withPoolSize(5);
    }

    /** Free ports, on the transport the tests run on (so that a file written from it changes no listener). */
    static PgmuxConfig config(TenantConfig... tenants) {
        PgmuxConfig config = PgmuxConfig.ephemeral(tenants);
        return config.withListen(config.listen().withTransport(PgmuxHarness.testTransport()));
    }

    /** A pgjdbc login as {@code role.tenant} with this password, to database postgres. */
    static Connection connect(PgmuxHarness pgmux, Port port, String tenant, TestRole role) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", role.name() + "." + tenant);
        props.setProperty("password", role.password());
        props.setProperty("sslmode", "disable");
        props.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), props);
    }

    /** Upstream backends of the role, in any state. */
    static long backends(TestRole role) throws SQLException {
        return Pgjdbc.backends(role.name(), null);
    }

    /** Writes {@code config} as YAML: the settings the reload tests change, the rest left to defaults. */
    static void write(Path file, PgmuxConfig config) throws IOException {
        ConfigFiles.write(file, config);
    }

    /** An HTTP request to pgmux's admin port: the status and the body. */
    static HttpResponse<String> admin(PgmuxHarness pgmux, String method, String path) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pgmux.server().adminPort() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The admin port's {@code /pools} line of this tenant's pool of {@code role} on database postgres, or "". */
    static String poolLine(PgmuxHarness pgmux, String tenant, TestRole role) throws IOException, InterruptedException {
        String prefix = tenant + "/postgres/" + role.name() + " ";
        return admin(pgmux, "GET", "/pools").body().lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
    }
}
