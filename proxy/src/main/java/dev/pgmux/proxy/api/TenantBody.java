package dev.pgmux.proxy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A tenant as the API receives it, turned into pgmux's tenant spec (the keys of a tenant in the file). The body is
 * either {@code {"tenant": {...}}}, as Supavisor's API takes it, or the tenant object itself. Its keys are pgmux's
 * tenant keys, Supavisor's tenant fields, or both: Supavisor's are mapped onto pgmux's (see docs/cluster.md, "The
 * tenant API"), pgmux's pass as they are. A Supavisor field whose meaning pgmux cannot honour is refused, never
 * dropped: {@link #problems} names it and says why.
 *
 * <p>The same mapping serves a PATCH: it maps only the keys present, so its result is a merge patch onto the stored
 * spec.
 */
final class TenantBody {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Supavisor's tenant fields that map one to one onto a pgmux key (a path in the spec). */
    private static final Map<String, String> DIRECT = Map.of(
            "db_host", "upstream.host",
            "db_port", "upstream.port",
            "db_database", "upstream.database",
            "enforce_ssl", "require_tls");

    /**
     * Supavisor's fields pgmux has no counterpart for, with the values that ask for nothing pgmux does not do
     * (their defaults): any other value is refused.
     */
    private static final Map<String, Set<String>> NO_COUNTERPART = Map.of(
            "ip_version", Set.of("auto"),
            "sni_hostname", Set.of(),
            "client_idle_timeout", Set.of("0"),
            "client_heartbeat_interval", Set.of("60"),
            "feature_flags", Set.of("{}"),
            "use_jit", Set.of("false"),
            "jit_api_url", Set.of(),
            "availability_zone", Set.of());

    /** Supavisor fields read and not used: they change nothing in pgmux. */
    private static final Set<String> IGNORED = Set.of(
            "default_parameter_status"); // Supavisor's cache of the server's parameters; pgmux asks the server

    private static final Set<String> SUPAVISOR_USER_KEYS = Set.of("db_user", "db_password", "db_user_alias",
            "mode_type", "is_manager", "pool_size", "max_clients", "pool_checkout_timeout");

    /** pgmux's spec (or, for a PATCH, the merge patch onto it). */
    final ObjectNode spec = NODES.objectNode();
    /** Where a key of the spec came from in the body, for naming its problems: "upstream.port" -> "tenant.db_port". */
    final Map<String, String> origins = new LinkedHashMap<>();
    /** What cannot be honoured, each as "field: why", named by the body's field. */
    final List<String> problems = new ArrayList<>();
    /** The id the body gives itself (pgmux's id or Supavisor's external_id), with its field name; null if none. */
    String bodyId;
    String bodyIdField;

    private final String prefix;

    private TenantBody(String prefix) {
        this.prefix = prefix;
    }

    /**
     * Maps a body. {@code storedHasAuthUser}: whether the spec a PATCH applies to already has an auth_user (a
     * require_user of false needs one).
     *
     * @throws IllegalArgumentException when the body is not a JSON object (or its tenant is not one)
     */
    static TenantBody of(JsonNode body, boolean storedHasAuthUser) {
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object: {\"tenant\": {...}} or a tenant's keys");
        }
        String prefix = "";
        JsonNode tenant = body;
        if (body.has("tenant")) {
            if (body.size() != 1) {
                throw new IllegalArgumentException("a body with \"tenant\" must have nothing beside it");
            }
            tenant = body.get("tenant");
            prefix = "tenant.";
            if (!tenant.isObject()) {
                throw new IllegalArgumentException("\"tenant\" must be a JSON object");
            }
        }
        TenantBody mapped = new TenantBody(prefix);
        mapped.map((ObjectNode) tenant, storedHasAuthUser);
        return mapped;
    }

    private String field(String name) {
        return prefix + name;
    }

    private void problem(String field, String why) {
        problems.add(field(field) + ": " + why);
    }

    private void map(ObjectNode tenant, boolean storedHasAuthUser) {
        for (Iterator<Map.Entry<String, JsonNode>> it = tenant.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey();
            JsonNode value = entry.getValue();
            if (DIRECT.containsKey(key)) {
                put(DIRECT.get(key), value, key);
            } else if (NO_COUNTERPART.containsKey(key)) {
                noCounterpart(key, value);
            } else if (key.equals("external_id") || key.equals("id")) {
                if (bodyIdField != null) {
                    problem(key, "give one of id and external_id");
                } else if (!value.isTextual()) {
                    problem(key, "must be a string");
                } else {
                    bodyId = value.asText();
                    bodyIdField = field(key);
                }
            } else if (key.equals("users")) {
                users(value);
            } else if (key.equals("upstream") && value.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> up = value.fields(); up.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = up.next();
                    put("upstream." + e.getKey(), e.getValue(), null);
                }
            } else if (IGNORED.contains(key) || key.equals("require_user") || key.startsWith("upstream_")
                    || key.equals("default_pool_size") || key.equals("default_max_clients")) {
                // below, with the fields they depend on
            } else {
                put(key, value, null); // pgmux's own key (or an unknown one, which the tenant rules name)
            }
        }
        upstreamTls(tenant);
        requireUser(tenant, storedHasAuthUser);
        perUser(tenant, "default_pool_size", "pool_size", poolSizes, poolSizeField);
        perUser(tenant, "default_max_clients", "max_clients", maxClients, maxClientsField);
        finish();
    }

    /**
     * A pool size (or client limit) given for the tenant and for its users: in Supavisor the user's wins for that
     * user's pool and the tenant's applies to users looked up upstream; pgmux has one per tenant. So the users'
     * value is taken when every user gives the same and no user is looked up; two different values are refused.
     */
    private void perUser(ObjectNode tenant, String defaultField, String key, Map<String, JsonNode> userValues,
                         String userField) {
        JsonNode tenantValue = tenant.get(defaultField);
        if (tenantValue != null && !tenantValue.isNull()) {
            if (userValues.isEmpty() || (userValues.containsKey(tenantValue.asText()) && userValues.size() == 1)) {
                put(key, tenantValue, defaultField);
                return;
            }
        }
        if (userValues.size() > 1) {
            problem(userField, "pgmux gives every pool of a tenant the same " + key + ": the users' " + key
                    + " must be the same (or give the tenant's " + key + ")");
        } else if (userValues.size() == 1) {
            if (tenantValue != null && !tenantValue.isNull() && (requireUserFalse || !everyUserGives.contains(key))) {
                problem(defaultField, "applies to the users a user's " + key + " does not cover, but pgmux has one "
                        + key + " per tenant: make it the same as " + field(userField));
                return;
            }
            put(key, userValues.values().iterator().next(), userField);
        }
    }

    /** Sets a key of the spec (a dotted path), refusing a second value for it. */
    private void put(String path, JsonNode value, String supavisorField) {
        ObjectNode parent = spec;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = parent.get(parts[i]);
            if (child == null || !child.isObject()) {
                child = parent.putObject(parts[i]);
            }
            parent = (ObjectNode) child;
        }
        String last = parts[parts.length - 1];
        if (parent.has(last)) {
            String earlier = origins.getOrDefault(path, path);
            String now = supavisorField == null ? path : field(supavisorField);
            problems.add(now + ": " + (earlier.equals(now) ? "given twice" : "give one of " + earlier + " and " + now));
            return;
        }
        parent.set(last, value);
        if (supavisorField != null) {
            origins.put(path, field(supavisorField));
        }
    }

    private void noCounterpart(String key, JsonNode value) {
        if (value.isNull()) {
            return;
        }
        String text = value.isObject() || value.isArray() ? value.toString() : value.asText();
        if (!NO_COUNTERPART.get(key).contains(text)) {
            problem(key, "pgmux has no counterpart for it (" + why(key) + "): leave it out");
        }
    }

    private static String why(String key) {
        return switch (key) {
            case "ip_version" -> "pgmux connects to the addresses the upstream host name resolves to";
            case "sni_hostname" -> "pgmux finds a tenant by the user name's suffix, not by the TLS server name";
            case "client_idle_timeout" -> "pgmux does not end idle clients";
            case "client_heartbeat_interval" -> "pgmux sends clients no heartbeat";
            case "feature_flags", "use_jit", "jit_api_url" -> "a Supavisor feature";
            case "availability_zone" -> "pgmux instances have no zones";
            default -> "not supported";
        };
    }

    /** upstream_ssl, upstream_verify, upstream_tls_ca -> upstream.sslmode. */
    private void upstreamTls(ObjectNode tenant) {
        JsonNode ssl = tenant.get("upstream_ssl");
        JsonNode verify = tenant.get("upstream_verify");
        JsonNode ca = tenant.get("upstream_tls_ca");
        for (Iterator<String> it = tenant.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (key.startsWith("upstream_") && !Set.of("upstream_ssl", "upstream_verify", "upstream_tls_ca").contains(key)) {
                put(key, tenant.get(key), null); // not Supavisor's: the tenant rules name it
            }
        }
        if (ca != null && !ca.isNull() && !(ca.isTextual() && ca.asText().isEmpty())) {
            problem("upstream_tls_ca", "pgmux reads the upstream's CA certificates from a file on each instance: "
                    + "give upstream.sslrootcert (its path, or system) instead");
        }
        if (ssl != null && !ssl.isNull() && !ssl.isBoolean()) {
            problem("upstream_ssl", "must be true or false");
            return;
        }
        if (verify != null && !verify.isNull() && !(verify.isTextual()
                && (verify.asText().equals("none") || verify.asText().equals("peer")))) {
            problem("upstream_verify", "must be none or peer");
            return;
        }
        boolean sslGiven = ssl != null && !ssl.isNull();
        boolean peer = verify != null && verify.asText().equals("peer");
        if (sslGiven && !ssl.asBoolean() && peer) {
            problem("upstream_verify", "peer needs upstream_ssl: true");
        } else if (peer) {
            put("upstream.sslmode", NODES.textNode("verify-full"), "upstream_verify");
        } else if (sslGiven) {
            put("upstream.sslmode", NODES.textNode(ssl.asBoolean() ? "require" : "disable"), "upstream_ssl");
        }
    }

    /**
     * require_user: true is what pgmux does with no auth_user (only listed users log in); false asks for the
     * users pgmux does not list to be looked up upstream, which pgmux does with an auth_user: a Supavisor user
     * with is_manager: true, or pgmux's own auth_user key.
     */
    private void requireUser(ObjectNode tenant, boolean storedHasAuthUser) {
        JsonNode requireUser = tenant.get("require_user");
        if (requireUser == null || requireUser.isNull()) {
            return;
        }
        if (!requireUser.isBoolean()) {
            problem("require_user", "must be true or false");
            return;
        }
        boolean hasAuthUser = spec.has("auth_user") || storedHasAuthUser || !managers.isEmpty();
        if (requireUser.asBoolean() && spec.has("auth_user") && origins.get("auth_user") == null) {
            problem("require_user", "true means no user is looked up upstream, but auth_user asks for that: "
                    + "give one of them");
        } else if (!requireUser.asBoolean() && !hasAuthUser) {
            problem("require_user", "false asks pgmux to look up the users it does not list, which it does as an "
                    + "auth_user: give a user with is_manager: true (or pgmux's auth_user), or set require_user to true");
        }
        requireUserFalse = !requireUser.asBoolean();
    }

    private boolean requireUserFalse;

    private void users(JsonNode users) {
        if (!users.isArray()) {
            put("users", users, null); // the tenant rules say what it must be
            return;
        }
        ArrayNode out = NODES.arrayNode();
        Set<String> checkoutTimeouts = new LinkedHashSet<>();
        List<Integer> managers = new ArrayList<>();
        String checkoutField = null;
        JsonNode firstCheckout = null;
        int poolSizeGiven = 0;
        int maxClientsGiven = 0;
        for (int i = 0; i < users.size(); i++) {
            JsonNode user = users.get(i);
            String at = "users[" + i + "]";
            if (!user.isObject() || !hasAny(user, SUPAVISOR_USER_KEYS)) {
                out.add(user); // pgmux's {name, password, pool_mode}
                continue;
            }
            ObjectNode mapped = NODES.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = user.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                JsonNode value = e.getValue();
                switch (key) {
                    case "db_user" -> userKey(mapped, "name", value, i, key);
                    case "db_password" -> userKey(mapped, "password", value, i, key);
                    case "mode_type" -> {
                        if (!value.isNull()) {
                            userKey(mapped, "pool_mode", value, i, key);
                        }
                    }
                    case "db_user_alias" -> {
                        if (!value.isNull() && !value.equals(user.get("db_user"))) {
                            problem(at + ".db_user_alias", "pgmux has no user aliases: a user logs in with its db_user");
                        }
                    }
                    case "is_manager" -> {
                        if (value.asBoolean(false)) {
                            managers.add(i);
                        }
                    }
                    case "pool_size" -> {
                        if (!value.isNull()) {
                            poolSizes.putIfAbsent(value.asText(), value);
                            poolSizeField = poolSizeField == null ? at + ".pool_size" : poolSizeField;
                            poolSizeGiven++;
                        }
                    }
                    case "pool_checkout_timeout" -> {
                        if (!value.isNull()) {
                            checkoutTimeouts.add(value.asText());
                            firstCheckout = firstCheckout == null ? value : firstCheckout;
                            checkoutField = checkoutField == null ? at + ".pool_checkout_timeout" : checkoutField;
                        }
                    }
                    case "max_clients" -> {
                        if (!value.isNull()) {
                            maxClients.putIfAbsent(value.asText(), value);
                            maxClientsField = maxClientsField == null ? at + ".max_clients" : maxClientsField;
                            maxClientsGiven++;
                        }
                    }
                    default -> userKey(mapped, key, value, i, null); // pgmux's name, password, pool_mode, or unknown
                }
            }
            out.add(mapped);
        }
        put("users", out, null);
        if (poolSizeGiven == users.size()) {
            everyUserGives.add("pool_size");
        }
        if (maxClientsGiven == users.size()) {
            everyUserGives.add("max_clients");
        }
        if (checkoutTimeouts.size() > 1) {
            problem(checkoutField, "pgmux has one checkout_timeout per tenant: the users' pool_checkout_timeout "
                    + "must be the same");
        } else if (checkoutTimeouts.size() == 1) {
            JsonNode ms = firstCheckout;
            if (!ms.canConvertToLong() || !ms.isIntegralNumber()) {
                problem(checkoutField, "must be a number of milliseconds");
            } else {
                put("checkout_timeout", NODES.textNode(ms.asLong() + "ms"), checkoutField);
            }
        }
        if (maxClientsGiven > 0 && users.size() > 1) {
            problem(maxClientsField, "pgmux bounds the clients of the whole tenant, not of each user: give the "
                    + "tenant's max_clients (or default_max_clients) instead");
            maxClients.clear();
        }
        this.managers = managers;
    }

    private List<Integer> managers = List.of();
    private final Map<String, JsonNode> poolSizes = new LinkedHashMap<>();
    private final Map<String, JsonNode> maxClients = new LinkedHashMap<>();
    private String poolSizeField;
    private String maxClientsField;
    private final Set<String> everyUserGives = new java.util.HashSet<>();

    /** After the tenant's keys: a manager user becomes the auth_user when require_user is false. */
    private void finish() {
        if (managers.size() > 1) {
            problem("users[" + managers.get(1) + "].is_manager", "pgmux looks users up as one user: one is_manager at most");
        } else if (managers.size() == 1 && requireUserFalse) {
            JsonNode user = spec.get("users").get(managers.get(0));
            ObjectNode authUser = NODES.objectNode();
            authUser.set("name", user.get("name"));
            authUser.set("password", user.get("password"));
            put("auth_user", authUser, "users[" + managers.get(0) + "]");
        }
    }

    private void userKey(ObjectNode mapped, String key, JsonNode value, int index, String supavisorField) {
        if (mapped.has(key)) {
            problem("users[" + index + "]." + (supavisorField == null ? key : supavisorField),
                    "give one of " + key + " and its Supavisor name");
            return;
        }
        mapped.set(key, value);
        if (supavisorField != null) {
            origins.put("users[" + index + "]." + key, field("users[" + index + "]." + supavisorField));
        }
    }

    private static boolean hasAny(JsonNode node, Set<String> keys) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            if (keys.contains(it.next())) {
                return true;
            }
        }
        return false;
    }

    /**
     * A problem of the tenant rules ({@code tenants[ID].upstream.port: ...}) named by the body's field when the
     * key came from a Supavisor field ({@code tenant.db_port: ...}).
     */
    String rename(String id, String problem) {
        String head = "tenants[" + id + "].";
        if (!problem.startsWith(head)) {
            return problem;
        }
        String rest = problem.substring(head.length());
        String best = null;
        for (String path : origins.keySet()) {
            if (rest.startsWith(path) && rest.length() > path.length()
                    && ":.[".indexOf(rest.charAt(path.length())) >= 0 && (best == null || path.length() > best.length())) {
                best = path;
            }
        }
        return best == null ? problem : origins.get(best) + rest.substring(best.length());
    }

    @Override
    public String toString() {
        return "TenantBody[" + Objects.requireNonNullElse(bodyIdField, "-") + "]"; // never the spec: it has passwords
    }
}
