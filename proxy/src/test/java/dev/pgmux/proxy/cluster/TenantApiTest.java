package dev.pgmux.proxy.cluster;

import static dev.pgmux.proxy.testing.Pgjdbc.serverError;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static dev.pgmux.proxy.cluster.TenantLogins.login;
import static dev.pgmux.proxy.cluster.TenantLogins.logsIn;
import static dev.pgmux.proxy.cluster.TenantLogins.running;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgmux.config.AdminConfig;
import dev.pgmux.config.ClusterConfig;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.LimitsConfig;
import dev.pgmux.config.ListenConfig;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.PoolMode;
import dev.pgmux.config.SslMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.proxy.api.Jwt;
import dev.pgmux.proxy.api.TenantApi;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.util.PSQLException;
import org.yaml.snakeyaml.Yaml;

/**
 * The tenant API on the admin port: a tenant written through one instance serves logins on every instance within a
 * second; GET hides passwords; PATCH, DELETE and terminate apply everywhere; refused requests (no token, a bad one,
 * alg none, expired) change nothing in the metadata database; problems are named by field; the API is off without
 * admin.api_jwt_secret; docs/tenant-api.yaml lists exactly the routes served.
 */
@Timeout(120)
class TenantApiTest {
    private static final Duration WITHIN_A_SECOND = Duration.ofSeconds(1);
    private static final String SECRET = "tenant-api-test-secret-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private MetadataDatabase database;

    @BeforeEach
    void createDatabase() throws SQLException {
        database = MetadataDatabase.create();
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        database.close();
    }

    private PgmuxHarness start(AdminConfig admin) {
        return PgmuxHarness.start(new PgmuxConfig(ListenConfig.ephemeral(), TlsConfig.disabled(), LimitsConfig.defaults(),
                Optional.empty(), List.of(PgmuxHarness.defaultTenant()), admin, ConsoleConfig.none(), LogConfig.defaults(),
                ClusterConfig.metadata(database.url())));
    }

    private PgmuxHarness start() {
        return start(AdminConfig.defaults().withApiJwtSecret(SECRET));
    }

    // --- tokens and requests

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private static String token() {
        return Jwt.sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"role\":\"admin\",\"exp\":" + (now() + 600) + "}",
                SECRET.getBytes(StandardCharsets.UTF_8));
    }

    private record Answer(int status, String body, HttpResponse<String> response) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }

        List<String> errors() throws Exception {
            List<String> errors = new ArrayList<>();
            json().path("errors").forEach(e -> errors.add(e.asText()));
            return errors;
        }
    }

    private static Answer call(PgmuxHarness pgmux, String method, String path, String body, String authorization)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pgmux.server().adminPort() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body(), response);
    }

    private static Answer call(PgmuxHarness pgmux, String method, String path, String body) throws Exception {
        return call(pgmux, method, path, body, "Bearer " + token());
    }

    /** Supavisor's body for a tenant of the test cluster: the scram role, to database postgres. */
    private static String supavisorBody(String mode, int poolSize) {
        TestPostgres pg = TestPostgres.get();
        return """
                {"tenant": {
                  "db_host": "%s", "db_port": %d, "db_database": "postgres",
                  "ip_version": "auto", "require_user": true, "upstream_ssl": false, "enforce_ssl": false,
                  "upstream_tls_ca": "", "default_max_clients": 200, "default_pool_size": 15,
                  "users": [{"db_user": "%s", "db_password": "%s", "mode_type": "%s", "pool_size": %d,
                             "max_clients": 50, "pool_checkout_timeout": 5000}]
                }}""".formatted(pg.host(), pg.port(), TestPostgres.SCRAM.name(), TestPostgres.SCRAM.password(), mode,
                poolSize);
    }

    private static String modeOf(Port port) {
        return port == Port.SESSION ? "session" : "transaction";
    }

    // --- logins

    /** The row as the metadata database has it: spec and updated_at, or null. */
    private String row(String id) throws SQLException {
        try (Connection c = database.connect();
             PreparedStatement st = c.prepareStatement("SELECT spec::text || ' @ ' || updated_at::text FROM pgmux.tenants WHERE id = ?")) {
            st.setString(1, id);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private long rows() throws SQLException {
        try (Connection c = database.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM pgmux.tenants")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // --- the tests

    @ParameterizedTest
    @EnumSource(Port.class)
    void aSupavisorTenantPutOnOneInstanceServesLoginsOnBothWithinASecond(Port port) throws Exception {
        try (PgmuxHarness a = start(); PgmuxHarness b = start()) {
            assertThat(logsIn(b, port, "shop")).isFalse();
            long sent = System.nanoTime();
            Answer created = call(a, "PUT", "/api/tenants/shop", supavisorBody(modeOf(port), 3));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            Wait.until("a login as scram_user.shop on B", WITHIN_A_SECOND, () -> logsIn(b, port, "shop"));
            Wait.until("a login as scram_user.shop on A", WITHIN_A_SECOND, () -> logsIn(a, port, "shop"));
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(WITHIN_A_SECOND);

            TenantConfig shop = running(b, "shop").orElseThrow();
            assertThat(shop.poolSize()).as("the user's pool_size wins over default_pool_size").isEqualTo(3);
            assertThat(shop.maxClients()).as("the only user's max_clients").isEqualTo(50);
            assertThat(shop.checkoutTimeout()).isEqualTo(Duration.ofSeconds(5));
            assertThat(shop.upstream().tls().mode()).as("upstream_ssl: false").isEqualTo(SslMode.DISABLE);
            assertThat(shop.users().get(0).poolMode()).contains(port == Port.SESSION ? PoolMode.SESSION : PoolMode.TRANSACTION);
            assertThat(created.response().headers().firstValue("Location")).contains("/api/tenants/shop");

            Answer replaced = call(a, "PUT", "/api/tenants/shop", supavisorBody(modeOf(port), 4));
            assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
            Wait.until("pool_size 4 on B", WITHIN_A_SECOND, () -> running(b, "shop").orElseThrow().poolSize() == 4);
        }
    }

    @Test
    void getShowsTheTenantWithoutItsPasswords() throws Exception {
        try (PgmuxHarness a = start()) {
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody("transaction", 3)).status()).isEqualTo(201);
            Answer got = call(a, "GET", "/api/tenants/shop", null);
            assertThat(got.status()).isEqualTo(200);
            assertThat(got.response().headers().firstValue("Content-Type")).contains("application/json");
            JsonNode data = got.json().get("data");
            assertThat(data.get("id").asText()).isEqualTo("shop");
            assertThat(data.at("/upstream/port").asInt()).isEqualTo(TestPostgres.get().port());
            assertThat(data.at("/users/0/name").asText()).isEqualTo(TestPostgres.SCRAM.name());
            assertThat(data.at("/users/0").has("password")).isFalse();
            assertThat(got.body()).doesNotContain(TestPostgres.SCRAM.password());
            assertThat(row("shop")).as("the database keeps it").contains(TestPostgres.SCRAM.password());

            Answer missing = call(a, "GET", "/api/tenants/nobody", null);
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.json().get("error").asText()).contains("nobody");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aPatchChangesThePoolSizeEverywhereWithoutDroppingAClient(Port port) throws Exception {
        try (PgmuxHarness a = start(); PgmuxHarness b = start()) {
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody(modeOf(port), 3)).status()).isEqualTo(201);
            Wait.until("shop serves on B", () -> logsIn(b, port, "shop"));
            try (Connection client = login(b, port, "shop")) {
                assertThat(text(client, "SELECT 'before'")).isEqualTo("before");
                Answer patched = call(a, "PATCH", "/api/tenants/shop", "{\"tenant\": {\"default_pool_size\": 7}}");
                assertThat(patched.status()).as(patched.body()).isEqualTo(200);
                assertThat(patched.json().at("/data/pool_size").asInt()).isEqualTo(7);
                Wait.until("pool_size 7 on B", WITHIN_A_SECOND, () -> running(b, "shop").orElseThrow().poolSize() == 7);
                Wait.until("pool_size 7 on A", WITHIN_A_SECOND, () -> running(a, "shop").orElseThrow().poolSize() == 7);
                assertThat(b.server().runtime().pools().all()).filteredOn(pool -> pool.key().tenant().equals("shop"))
                        .allSatisfy(pool -> assertThat(pool.settings().maxSize()).isEqualTo(7));
                assertThat(text(client, "SELECT 'after'")).isEqualTo("after");

                Answer ownShape = call(b, "PATCH", "/api/tenants/shop", "{\"max_clients\": 9, \"upstream\": {\"database\": \"postgres\"}}");
                assertThat(ownShape.status()).as(ownShape.body()).isEqualTo(200);
                Wait.until("max_clients 9 on A", WITHIN_A_SECOND, () -> running(a, "shop").orElseThrow().maxClients() == 9);
                assertThat(running(a, "shop").orElseThrow().poolSize()).isEqualTo(7);
                assertThat(running(a, "shop").orElseThrow().upstream().host()).isEqualTo(TestPostgres.get().host());
            }
            assertThat(call(a, "PATCH", "/api/tenants/nobody", "{\"pool_size\": 2}").status()).isEqualTo(404);
            assertThat(rows()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aDeletedTenantTakesNoNewLoginsAnywhere(Port port) throws Exception {
        try (PgmuxHarness a = start(); PgmuxHarness b = start()) {
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody(modeOf(port), 3)).status()).isEqualTo(201);
            Wait.until("shop serves on B", () -> logsIn(b, port, "shop"));
            Answer deleted = call(b, "DELETE", "/api/tenants/shop", null);
            assertThat(deleted.status()).isEqualTo(204);
            assertThat(deleted.body()).isEmpty();
            assertThat(row("shop")).isNull();
            Wait.until("shop gone on A and B", WITHIN_A_SECOND,
                    () -> running(a, "shop").isEmpty() && running(b, "shop").isEmpty());
            for (PgmuxHarness instance : List.of(a, b)) {
                PSQLException refused = serverError(() -> login(instance, port, "shop").close());
                assertThat(refused.getServerErrorMessage().getMessage()).isEqualTo("Tenant or user not found");
            }
            assertThat(call(a, "DELETE", "/api/tenants/shop", null).status()).isEqualTo(404);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void terminateDisconnectsTheTenantsClientsOnEveryInstanceAndTheTenantStays(Port port) throws Exception {
        try (PgmuxHarness a = start(); PgmuxHarness b = start()) {
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody(modeOf(port), 3)).status()).isEqualTo(201);
            Wait.until("shop serves on A and B", () -> logsIn(a, port, "shop") && logsIn(b, port, "shop"));
            try (Connection onA = login(a, port, "shop"); Connection onB = login(b, port, "shop");
                 Connection other = login(a, port, PgmuxHarness.TENANT)) {
                assertThat(text(onA, "SELECT 'a'")).isEqualTo("a");
                assertThat(text(onB, "SELECT 'b'")).isEqualTo("b");
                assertThat(text(other, "SELECT 'other'")).isEqualTo("other");

                assertThat(call(a, "GET", "/api/tenants/shop/terminate", null).response().headers().firstValue("Allow"))
                        .contains("POST");
                Answer terminated = call(a, "POST", "/api/tenants/shop/terminate", null);
                assertThat(terminated.status()).as(terminated.body()).isEqualTo(200);
                for (Connection client : List.of(onA, onB)) {
                    Wait.until("the client disconnected", () -> {
                        try {
                            text(client, "SELECT 1");
                            return false;
                        } catch (SQLException e) {
                            return true;
                        }
                    });
                }
                assertThat(text(other, "SELECT 'still here'")).as("another tenant's client").isEqualTo("still here");
            }
            assertThat(running(a, "shop")).isPresent();
            assertThat(running(b, "shop")).isPresent();
            assertThat(logsIn(a, port, "shop")).isTrue();
            assertThat(logsIn(b, port, "shop")).isTrue();
            assertThat(call(a, "POST", "/api/tenants/nobody/terminate", null).status()).isEqualTo(404);
        }
    }

    @Test
    void refusedTokensChangeNothingInTheDatabase() throws Exception {
        try (PgmuxHarness a = start()) {
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody("transaction", 3)).status()).isEqualTo(201);
            String before = row("shop");
            byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);
            String claims = "{\"role\":\"admin\",\"exp\":" + (now() + 600) + "}";
            Map<String, String> refused = new LinkedHashMap<>();
            refused.put("a bad signature", Jwt.sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims,
                    "another-secret-of-at-least-32-bytes!!".getBytes(StandardCharsets.UTF_8)));
            refused.put("alg none", unsigned("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims));
            refused.put("HS512", Jwt.sign("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", claims, secret));
            refused.put("expired", Jwt.sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                    "{\"role\":\"admin\",\"exp\":" + (now() - 3600) + "}", secret));
            refused.put("no exp", Jwt.sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"role\":\"admin\"}", secret));
            refused.put("not yet valid", Jwt.sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                    "{\"role\":\"admin\",\"exp\":" + (now() + 7200) + ",\"nbf\":" + (now() + 3600) + "}", secret));
            refused.put("malformed", "not-a-jwt");
            for (var token : refused.entrySet()) {
                for (String[] request : List.of(
                        new String[] {"PUT", "/api/tenants/shop", supavisorBody("transaction", 9)},
                        new String[] {"PATCH", "/api/tenants/shop", "{\"pool_size\": 9}"},
                        new String[] {"DELETE", "/api/tenants/shop", null},
                        new String[] {"PUT", "/api/tenants/other", supavisorBody("transaction", 9)})) {
                    Answer answer = call(a, request[0], request[1], request[2], "Bearer " + token.getValue());
                    assertThat(answer.status()).as(token.getKey() + ": " + request[0] + " " + request[1]).isEqualTo(403);
                    assertThat(answer.body()).doesNotContain(token.getValue()).doesNotContain(SECRET);
                }
            }
            Answer anonymous = call(a, "DELETE", "/api/tenants/shop", null, null);
            assertThat(anonymous.status()).isEqualTo(401);
            assertThat(anonymous.response().headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Bearer");
            assertThat(call(a, "PUT", "/api/tenants/shop", supavisorBody("transaction", 9), "Basic YTpi").status())
                    .isEqualTo(401);
            assertThat(row("shop")).as("the row is unchanged").isEqualTo(before);
            assertThat(row("other")).isNull();
            assertThat(running(a, "shop").orElseThrow().poolSize()).isEqualTo(3);
        }
    }

    private static String unsigned(String header, String claims) {
        java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + ".";
    }

    @Test
    void problemsAreNamedByTheirFieldAndNothingIsWritten() throws Exception {
        try (PgmuxHarness a = start()) {
            Answer own = call(a, "PUT", "/api/tenants/gamma", """
                    {"upstream": {"host": "db"}, "pool_size": 0, "users": [{"name": "app", "password": "pw"}]}""");
            assertThat(own.status()).isEqualTo(422);
            assertThat(own.errors()).containsExactly("tenants[gamma].pool_size: must be > 0, got 0");

            Answer supavisor = call(a, "PUT", "/api/tenants/gamma", supavisorBody("transaction", 3)
                    .replace("\"db_port\": " + TestPostgres.get().port(), "\"db_port\": 70000")
                    .replace("\"ip_version\": \"auto\"", "\"ip_version\": \"v6\"")
                    .replace("\"upstream_tls_ca\": \"\"", "\"upstream_tls_ca\": \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"")
                    .replace("\"mode_type\": \"transaction\"", "\"mode_type\": \"statement\""));
            assertThat(supavisor.status()).isEqualTo(422);
            assertThat(supavisor.errors()).anySatisfy(e -> assertThat(e).startsWith("tenant.ip_version: pgmux has no counterpart"))
                    .anySatisfy(e -> assertThat(e).startsWith("tenant.upstream_tls_ca: pgmux reads the upstream's CA certificates from a file"))
                    .contains("tenant.db_port: must be a port number 1..65535, got 70000")
                    .anySatisfy(e -> assertThat(e).startsWith("tenant.users[0].mode_type: must be one of"));
            assertThat(supavisor.body()).doesNotContain(TestPostgres.SCRAM.password());

            Answer twoSizes = call(a, "PUT", "/api/tenants/gamma", """
                    {"tenant": {"db_host": "db", "db_port": 5432, "db_database": "postgres", "require_user": false,
                     "users": [{"db_user": "a", "db_password": "x", "pool_size": 3, "mode_type": "transaction"},
                               {"db_user": "b", "db_password": "y", "pool_size": 5, "mode_type": "transaction"}]}}""");
            assertThat(twoSizes.status()).isEqualTo(422);
            assertThat(twoSizes.errors()).anySatisfy(e -> assertThat(e).startsWith("tenant.users[0].pool_size: pgmux gives every pool"))
                    .anySatisfy(e -> assertThat(e).startsWith("tenant.require_user: false asks pgmux to look up"));

            Answer otherId = call(a, "PUT", "/api/tenants/gamma", supavisorBody("transaction", 3)
                    .replace("\"db_host\"", "\"external_id\": \"delta\", \"db_host\""));
            assertThat(otherId.status()).isEqualTo(422);
            assertThat(otherId.errors()).containsExactly("tenant.external_id: must be the path's id \"gamma\", got \"delta\"");

            Answer badId = call(a, "PUT", "/api/tenants/bad.id", supavisorBody("transaction", 3));
            assertThat(badId.status()).isEqualTo(422);
            assertThat(badId.errors()).containsExactly("id: must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got \"bad.id\"");

            Answer notJson = call(a, "PUT", "/api/tenants/gamma", "{\"tenant\": {\"db_host\": }");
            assertThat(notJson.status()).isEqualTo(400);
            assertThat(notJson.json().get("error").asText()).startsWith("the body is not valid JSON");

            Answer wrongMethod = call(a, "POST", "/api/tenants/gamma", "{}");
            assertThat(wrongMethod.status()).isEqualTo(405);
            assertThat(wrongMethod.response().headers().firstValue("Allow")).contains("GET, PUT, PATCH, DELETE");

            Answer tooLarge = call(a, "PUT", "/api/tenants/gamma", "{\"pad\": \"" + "x".repeat(TenantApi.MAX_BODY_BYTES) + "\"}");
            assertThat(tooLarge.status()).isEqualTo(413);

            assertThat(call(a, "GET", "/api/elsewhere", null).status()).isEqualTo(404);
            assertThat(rows()).as("nothing written").isZero();
        }
    }

    @Test
    void theApiIsOffWithoutItsSecret() throws Exception {
        try (PgmuxHarness a = start(AdminConfig.defaults())) {
            Answer off = call(a, "PUT", "/api/tenants/shop", supavisorBody("transaction", 3));
            assertThat(off.status()).isEqualTo(404);
            assertThat(off.json().get("error").asText()).contains("the tenant API is off").contains("admin.api_jwt_secret");
            assertThat(rows()).isZero();
            assertThat(a.adminGet("/health")).isEqualTo(200);
        }
    }

    @Test
    void anUnreachableMetadataDatabaseIsA503() throws Exception {
        try (PgmuxHarness a = start()) {
            database.allowConnections(false);
            try {
                Answer away = call(a, "GET", "/api/tenants/shop", null);
                assertThat(away.status()).isEqualTo(503);
                assertThat(away.json().get("error").asText()).startsWith("the metadata database cannot be reached");
                assertThat(away.body()).doesNotContain(TestPostgres.get().superuserRole().password());
            } finally {
                database.allowConnections(true);
            }
            assertThat(call(a, "GET", "/api/tenants/shop", null).status()).isEqualTo(404);
        }
    }

    @Test
    void theOpenApiDocumentListsExactlyTheRoutesServed() throws Exception {
        Path file = Path.of("..", "docs", "tenant-api.yaml");
        Map<String, Object> document = new Yaml().load(Files.readString(file));
        assertThat(document.get("openapi").toString()).startsWith("3.0");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) document.get("paths");
        Map<String, TreeSet<String>> documented = new TreeMap<>();
        paths.forEach((path, item) -> {
            TreeSet<String> methods = new TreeSet<>();
            item.keySet().stream().filter(k -> List.of("get", "put", "patch", "delete", "post").contains(k))
                    .forEach(k -> methods.add(k.toUpperCase(java.util.Locale.ROOT)));
            documented.put(path, methods);
        });
        Map<String, TreeSet<String>> served = new TreeMap<>();
        TenantApi.ROUTES.forEach((path, methods) -> served.put(path, new TreeSet<>(methods)));
        assertThat(documented).isEqualTo(served);
        assertThat(document.toString()).contains("bearerFormat=JWT");
    }
}
