package dev.pgmux.proxy.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgmux.config.ConfigException;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.MetadataUrl;
import dev.pgmux.config.TlsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tenant API (shaped like Supavisor's) on the admin port: tenants read from and written to the metadata
 * database's {@code pgmux.tenants}, from where every instance applies them (LISTEN/NOTIFY). Requests carry a JWT
 * signed with {@code admin.api_jwt_secret} (HS256).
 *
 * <pre>
 * GET    /api/tenants/{id}             the tenant, without its passwords
 * PUT    /api/tenants/{id}             create (201) or replace (200)
 * PATCH  /api/tenants/{id}             a JSON merge patch onto the stored tenant
 * DELETE /api/tenants/{id}             204
 * POST   /api/tenants/{id}/terminate   every instance closes the tenant's clients and servers
 * </pre>
 *
 * The token is checked on the caller's thread (an event loop: a hash, no I/O); everything that touches the
 * database runs on threads of the API's own, a few at a time, each request on a connection of its own.
 */
public final class TenantApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TenantApi.class);

    /** The routes, as docs/tenant-api.yaml lists them: path template -> methods. */
    public static final Map<String, List<String>> ROUTES = routes();
    public static final String TERMINATE_CHANNEL = dev.pgmux.proxy.cluster.MetadataStore.TERMINATE_CHANNEL;
    /** Request bodies above this are refused with 413 (the admin port's HttpObjectAggregator). */
    public static final int MAX_BODY_BYTES = 1 << 20;
    /** Requests that work on the database at once; the others wait for a turn. */
    private static final int CONCURRENCY = 4;

    private static final Pattern TENANT = Pattern.compile("/api/tenants/([^/]*)");
    private static final Pattern TERMINATE = Pattern.compile("/api/tenants/([^/]*)/terminate");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** An answer: its status, its JSON body (null: none) and headers beside the content type. */
    public record Response(int status, String body, Map<String, String> headers) {
        static Response json(int status, JsonNode body) {
            return new Response(status, body.toString(), Map.of());
        }

        static Response error(int status, String sentence) {
            ObjectNode body = JSON.createObjectNode();
            body.put("error", sentence);
            return json(status, body);
        }

        /** The API is off: without a secret, or without a metadata database to write to. */
        public static Response off() {
            return error(404, "the tenant API is off: set admin.api_jwt_secret (with cluster.metadata_url) to turn it on");
        }

        Response with(String header, String value) {
            Map<String, String> headers = new LinkedHashMap<>(this.headers);
            headers.put(header, value);
            return new Response(status, body, headers);
        }
    }

    private final Supplier<Optional<String>> secret;
    private final MetadataUrl url;
    private final Supplier<TlsConfig> tls;
    private final LongSupplier clockSeconds;
    private final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("pgmux-api-", 0).factory());
    private final Semaphore turns = new Semaphore(CONCURRENCY, true);

    /**
     * @param secret the secret in effect now (a reload may change it); empty: the API is off
     * @param url    the metadata database; null: none, and the API is off
     * @param tls    the clients' TLS settings in effect (a tenant's require_tls is checked against them)
     */
    public TenantApi(Supplier<Optional<String>> secret, MetadataUrl url, Supplier<TlsConfig> tls, LongSupplier clockSeconds) {
        this.secret = secret;
        this.url = url;
        this.tls = tls;
        this.clockSeconds = clockSeconds;
    }

    private static Map<String, List<String>> routes() {
        Map<String, List<String>> routes = new LinkedHashMap<>();
        routes.put("/api/tenants/{id}", List.of("GET", "PUT", "PATCH", "DELETE"));
        routes.put("/api/tenants/{id}/terminate", List.of("POST"));
        return java.util.Collections.unmodifiableMap(routes);
    }

    /** Whether a request path is the API's (then {@link #handle} answers it). */
    public static boolean isApiPath(String path) {
        return path.equals("/api") || path.startsWith("/api/");
    }

    /**
     * Answers a request. Refusals that need no database (the API off, the token, the route, the method, a body
     * that is not JSON) come back completed; the others complete on the API's threads.
     */
    public CompletableFuture<Response> handle(String method, String path, String authorization, byte[] body) {
        Optional<String> key = secret.get();
        if (key.isEmpty() || url == null) {
            return done(Response.off());
        }
        if (authorization == null || authorization.isBlank()) {
            return done(Response.error(401, "a bearer token is required (Authorization: Bearer <JWT>)")
                    .with("WWW-Authenticate", "Bearer realm=\"pgmux\""));
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return done(Response.error(401, "the Authorization header must be Bearer <JWT>")
                    .with("WWW-Authenticate", "Bearer realm=\"pgmux\", error=\"invalid_request\""));
        }
        String refusal = Jwt.refusal(authorization.substring(7).trim(), key.get().getBytes(StandardCharsets.UTF_8),
                clockSeconds.getAsLong());
        if (refusal != null) {
            return done(Response.error(403, refusal));
        }
        Matcher terminate = TERMINATE.matcher(path);
        Matcher tenant = TENANT.matcher(path);
        String template;
        String id;
        if (terminate.matches()) {
            template = "/api/tenants/{id}/terminate";
            id = terminate.group(1);
        } else if (tenant.matches()) {
            template = "/api/tenants/{id}";
            id = tenant.group(1);
        } else {
            return done(Response.error(404, "no such route: " + path + " (the routes are " + String.join(", ", ROUTES.keySet()) + ")"));
        }
        List<String> allowed = ROUTES.get(template);
        if (!allowed.contains(method)) {
            return done(Response.error(405, method + " is not allowed on " + template + ": use "
                    + String.join(", ", allowed)).with("Allow", String.join(", ", allowed)));
        }
        Optional<String> idProblem;
        try {
            id = java.net.URLDecoder.decode(id.replace("+", "%2B"), StandardCharsets.UTF_8);
            idProblem = ConfigLoader.tenantIdProblem(id);
        } catch (IllegalArgumentException e) {
            idProblem = Optional.of("must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got a malformed %-escape");
        }
        if (idProblem.isPresent()) {
            return done(problems(List.of("id: " + idProblem.get())));
        }
        JsonNode json = null;
        if (method.equals("PUT") || method.equals("PATCH")) {
            try {
                json = JSON.readTree(body);
            } catch (JsonProcessingException e) {
                return done(Response.error(400, "the body is not valid JSON (line " + e.getLocation().getLineNr()
                        + ", column " + e.getLocation().getColumnNr() + ")"));
            } catch (IOException e) {
                return done(Response.error(400, "the body is not valid JSON"));
            }
            if (json == null || json.isMissingNode()) {
                return done(Response.error(400, "the body is empty: send the tenant as JSON"));
            }
        }
        String tenantId = id;
        JsonNode request = json;
        return onOwnThread(() -> switch (method) {
            case "GET" -> get(tenantId);
            case "PUT" -> put(tenantId, request);
            case "PATCH" -> patch(tenantId, request);
            case "DELETE" -> delete(tenantId);
            default -> terminate(tenantId);
        });
    }

    private interface Work {
        Response run() throws SQLException;
    }

    private CompletableFuture<Response> onOwnThread(Work work) {
        CompletableFuture<Response> answer = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    turns.acquire();
                    try {
                        answer.complete(work.run());
                    } finally {
                        turns.release();
                    }
                } catch (SQLException e) {
                    log.warn("tenant API: the metadata database {} cannot be reached or refused a request: {} ({})", url,
                            e.getMessage(), e.getSQLState());
                    answer.complete(Response.error(503, "the metadata database cannot be reached or refused the request"
                            + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")") + ": try again"));
                } catch (InterruptedException e) {
                    answer.complete(Response.error(503, "pgmux is stopping"));
                } catch (RuntimeException e) {
                    log.error("tenant API: a request failed", e);
                    answer.complete(Response.error(500, "the request failed: " + e.getClass().getSimpleName()));
                }
            });
        } catch (RejectedExecutionException e) {
            answer.complete(Response.error(503, "pgmux is stopping"));
        }
        return answer;
    }

    private static CompletableFuture<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

    private Connection connect() throws SQLException {
        return dev.pgmux.proxy.cluster.MetadataConnections.open(url, "pgmux tenant API", 15);
    }

    private Response get(String id) throws SQLException {
        try (Connection c = connect()) {
            Optional<ObjectNode> spec = read(c, id, false);
            return spec.map(s -> Response.json(200, data(withoutPasswords(s)))).orElseGet(() -> notFound(id));
        }
    }

    private Response put(String id, JsonNode body) throws SQLException {
        TenantBody mapped;
        try {
            mapped = TenantBody.of(body, false);
        } catch (IllegalArgumentException e) {
            return Response.error(422, e.getMessage());
        }
        List<String> problems = new ArrayList<>(mapped.problems);
        ObjectNode spec = mapped.spec;
        if (mapped.bodyId != null && !mapped.bodyId.equals(id)) {
            problems.add(mapped.bodyIdField + ": must be the path's id \"" + id + "\", got \"" + mapped.bodyId + "\"");
        }
        spec.put("id", id);
        problems.addAll(check(id, spec, mapped));
        if (!problems.isEmpty()) {
            return problems(problems);
        }
        try (Connection c = connect(); PreparedStatement st = c.prepareStatement(
                "INSERT INTO pgmux.tenants (id, spec) VALUES (?, ?::jsonb) ON CONFLICT (id) DO UPDATE "
                        + "SET spec = excluded.spec, updated_at = now() RETURNING (xmax = 0)")) {
            st.setString(1, id);
            st.setString(2, ordered(spec).toString());
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                boolean created = rs.getBoolean(1);
                log.info("tenant API: tenant \"{}\" {}", id, created ? "created" : "replaced");
                Response response = Response.json(created ? 201 : 200, data(withoutPasswords(spec)));
                return created ? response.with("Location", "/api/tenants/" + id) : response;
            }
        }
    }

    private Response patch(String id, JsonNode body) throws SQLException {
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try {
                Optional<ObjectNode> stored = read(c, id, true);
                if (stored.isEmpty()) {
                    c.rollback();
                    return notFound(id);
                }
                TenantBody mapped;
                try {
                    mapped = TenantBody.of(body, stored.get().has("auth_user"));
                } catch (IllegalArgumentException e) {
                    c.rollback();
                    return Response.error(422, e.getMessage());
                }
                List<String> problems = new ArrayList<>(mapped.problems);
                if (mapped.bodyId != null && !mapped.bodyId.equals(id)) {
                    problems.add(mapped.bodyIdField + ": must be the path's id \"" + id + "\", got \"" + mapped.bodyId + "\"");
                }
                JsonNode merged = mergePatch(stored.get(), mapped.spec);
                if (!merged.isObject()) {
                    c.rollback();
                    return Response.error(422, "the patch must be a JSON object");
                }
                ObjectNode spec = (ObjectNode) merged;
                spec.put("id", id);
                problems.addAll(check(id, spec, mapped));
                if (!problems.isEmpty()) {
                    c.rollback();
                    return problems(problems);
                }
                try (PreparedStatement st = c.prepareStatement(
                        "UPDATE pgmux.tenants SET spec = ?::jsonb, updated_at = now() WHERE id = ?")) {
                    st.setString(1, ordered(spec).toString());
                    st.setString(2, id);
                    st.executeUpdate();
                }
                c.commit();
                log.info("tenant API: tenant \"{}\" patched", id);
                return Response.json(200, data(withoutPasswords(spec)));
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private Response delete(String id) throws SQLException {
        try (Connection c = connect(); PreparedStatement st = c.prepareStatement("DELETE FROM pgmux.tenants WHERE id = ?")) {
            st.setString(1, id);
            if (st.executeUpdate() == 0) {
                return notFound(id);
            }
            log.info("tenant API: tenant \"{}\" deleted", id);
            return new Response(204, null, Map.of());
        }
    }

    private Response terminate(String id) throws SQLException {
        try (Connection c = connect(); PreparedStatement st = c.prepareStatement(
                "SELECT pg_notify('" + TERMINATE_CHANNEL + "', id) FROM pgmux.tenants WHERE id = ?")) {
            st.setString(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return notFound(id);
                }
            }
            log.info("tenant API: terminate tenant \"{}\" sent to every instance", id);
            ObjectNode result = JSON.createObjectNode();
            result.put("id", id);
            result.put("result", "every instance closes the tenant's clients and servers");
            return Response.json(200, data(result));
        }
    }

    /** The stored spec of a tenant (locked for the transaction when {@code lock}). */
    private static Optional<ObjectNode> read(Connection c, String id, boolean lock) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT spec::text FROM pgmux.tenants WHERE id = ?"
                + (lock ? " FOR UPDATE" : ""))) {
            st.setString(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                JsonNode spec = JSON.readTree(rs.getString(1));
                return Optional.of(spec instanceof ObjectNode object ? object : JSON.createObjectNode());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("pgmux.tenants holds a spec that is not a JSON object", e);
            }
        }
    }

    /** The tenant rules' problems, each named by the body's field when it came from a Supavisor one. */
    private List<String> check(String id, ObjectNode spec, TenantBody mapped) {
        try {
            ConfigLoader.tenant(id, spec.toString(), tls.get());
            return List.of();
        } catch (ConfigException e) {
            return e.problems().stream().map(problem -> mapped.rename(id, problem)).toList();
        }
    }

    /** RFC 7396: objects merge key by key, null removes a key, anything else replaces. */
    static JsonNode mergePatch(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) {
            return patch;
        }
        ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy() : JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNull()) {
                result.remove(e.getKey());
            } else {
                result.set(e.getKey(), mergePatch(result.get(e.getKey()), e.getValue()));
            }
        }
        return result;
    }

    /** id first, as the file writes a tenant. */
    private static ObjectNode ordered(ObjectNode spec) {
        ObjectNode out = JSON.createObjectNode();
        out.set("id", spec.get("id"));
        spec.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("id")) {
                out.set(e.getKey(), e.getValue());
            }
        });
        return out;
    }

    /** The spec as the API shows it: users' and auth_user's passwords left out. */
    static ObjectNode withoutPasswords(ObjectNode spec) {
        ObjectNode shown = ordered(spec).deepCopy();
        if (shown.get("users") instanceof com.fasterxml.jackson.databind.node.ArrayNode users) {
            users.forEach(user -> {
                if (user instanceof ObjectNode u) {
                    u.remove("password");
                }
            });
        }
        if (shown.get("auth_user") instanceof ObjectNode authUser) {
            authUser.remove("password");
        }
        return shown;
    }

    private static ObjectNode data(JsonNode value) {
        ObjectNode body = JSON.createObjectNode();
        body.set("data", value);
        return body;
    }

    private static Response notFound(String id) {
        return Response.error(404, "no tenant \"" + id + "\" in the metadata database");
    }

    private static Response problems(List<String> problems) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", "the tenant breaks " + (problems.size() == 1 ? "a rule" : problems.size() + " rules"));
        problems.forEach(body.putArray("errors")::add);
        return Response.json(422, body);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
