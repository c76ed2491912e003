package dev.pgmux.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules a configuration must follow, checked on the records whatever built them. Each
 * broken rule is reported under the path of the YAML key that would fix it.
 */
final class ConfigValidator {

    /** No dot: clients write {@code user.tenant} and pgmux splits at the last dot. */
    private static final Pattern TENANT_ID = Pattern.compile("[A-Za-z0-9_-]+");

    private ConfigValidator() {
    }

    static void validate(ListenConfig listen, TlsConfig tls, LimitsConfig limits, Optional<String> defaultTenant,
                         List<TenantConfig> tenants, AdminConfig admin, Problems problems) {
        admin.metricsToken().ifPresent(token -> {
            if (token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                problems.add("admin.metrics_token", "must be printable ASCII without blanks (it is sent in an HTTP header)");
            }
        });
        listen(listen, problems);
        tls(tls, problems);
        limits(limits, problems);
        defaultTenant.ifPresent(id -> {
            if (tenants.stream().noneMatch(t -> t.id().equals(id))) {
                problems.add("default_tenant", "no tenant with id \"" + id + "\"");
            }
        });
        tenants(tenants, defaultTenant, tls, problems);
    }

    /** The cluster section, and the one rule it changes: without a metadata database a tenant is needed. */
    static void validate(ClusterConfig cluster, List<TenantConfig> tenants, Problems problems) {
        if (tenants.isEmpty() && !cluster.hasMetadata()) {
            problems.add("tenants", "at least one tenant is required (or cluster.metadata_url, where tenants are kept)");
        }
        cluster.metadataUrl().ifPresent(url -> {
            try {
                MetadataUrl.parse(url);
            } catch (IllegalArgumentException e) {
                problems.add("cluster.metadata_url", e.getMessage());
            }
        });
        if (cluster.refreshInterval().isNegative() || cluster.refreshInterval().isZero()) {
            problems.add("cluster.refresh_interval", "must be positive, got " + Durations.format(cluster.refreshInterval()));
        }
        if (cluster.instanceTimeout().compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            problems.add("cluster.instance_timeout", "must be at least 1s, got " + Durations.format(cluster.instanceTimeout()));
        }
        cluster.peerAddress().ifPresent(address -> {
            int colon = address.lastIndexOf(':');
            String port = colon > 0 ? address.substring(colon + 1) : "";
            if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                problems.add("cluster.peer_address", "must be HOST:PORT, got \"" + address + "\"");
            }
        });
        cluster.instanceId().ifPresent(id -> {
            if (id.length() > 200) {
                problems.add("cluster.instance_id", "must be at most 200 characters, got " + id.length());
            }
        });
    }

    /**
     * admin.api_jwt_secret: the API writes tenants to the metadata database, so it needs one; and an HS256 key
     * is at least as long as its hash. Never shows the secret.
     */
    static void validateApi(AdminConfig admin, ClusterConfig cluster, Problems problems) {
        admin.apiJwtSecret().ifPresent(secret -> {
            if (!cluster.hasMetadata()) {
                problems.add("admin.api_jwt_secret", "needs cluster.metadata_url (the API writes tenants to the "
                        + "metadata database)");
            }
            int bytes = secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes < AdminConfig.MIN_API_JWT_SECRET_BYTES) {
                problems.add("admin.api_jwt_secret", "must be at least " + AdminConfig.MIN_API_JWT_SECRET_BYTES
                        + " bytes (an HS256 key), got " + bytes);
            }
        });
    }

    /** What is wrong with a tenant id, or empty. */
    static Optional<String> tenantIdProblem(String id) {
        if (id.isEmpty()) {
            return Optional.of("must not be empty");
        }
        if (!TENANT_ID.matcher(id).matches()) {
            return Optional.of("must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got \"" + id + "\"");
        }
        return Optional.empty();
    }

    /** One tenant on its own, as the metadata database holds it: the rules of the tenants section. */
    static void validateTenant(TenantConfig tenant, TlsConfig tls, Problems problems) {
        tenants(List.of(tenant), Optional.empty(), tls, problems);
    }

    private static void listen(ListenConfig listen, Problems problems) {
        notEmpty("listen.host", listen.host(), problems);
        port("listen.transaction_port", listen.transactionPort(), 0, problems);
        port("listen.session_port", listen.sessionPort(), 0, problems);
        port("listen.admin_port", listen.adminPort(), 0, problems);
        distinct("listen.session_port", listen.sessionPort(), "listen.transaction_port", listen.transactionPort(), problems);
        distinct("listen.admin_port", listen.adminPort(), "listen.transaction_port", listen.transactionPort(), problems);
        distinct("listen.admin_port", listen.adminPort(), "listen.session_port", listen.sessionPort(), problems);
        if (listen.ioThreads() < 0 || listen.ioThreads() > ListenConfig.MAX_IO_THREADS) {
            problems.add("listen.io_threads", "must be between 0 (half the cores) and " + ListenConfig.MAX_IO_THREADS
                    + ", got " + listen.ioThreads());
        }
        List<String> networks = listen.proxyProtocol().networks();
        for (int i = 0; i < networks.size(); i++) {
            try {
                Cidr.parse(networks.get(i));
            } catch (IllegalArgumentException e) {
                problems.add("listen.proxy_protocol_networks[" + i + "]", e.getMessage());
            }
        }
        if (!networks.isEmpty() && !listen.proxyProtocol().enabled()) {
            problems.add("listen.proxy_protocol_networks", "has no effect while listen.proxy_protocol is off: "
                    + "set it to optional or required, or remove the networks");
        }
    }

    private static void distinct(String path, int port, String otherPath, int otherPort, Problems problems) {
        // Port 0 means "any free port": several listeners may ask for it.
        if (port != 0 && port == otherPort) {
            problems.add(path, "must differ from " + otherPath + ", both are " + port);
        }
    }

    private static void tls(TlsConfig tls, Problems problems) {
        if (tls.selfSigned() && (tls.certFile().isPresent() || tls.keyFile().isPresent())) {
            problems.add("tls.self_signed", "cannot be combined with tls.cert_file and tls.key_file (use one or the other)");
        } else if (tls.enabled() && !tls.selfSigned()) {
            String mode = tls.mode().configName();
            if (tls.certFile().isEmpty()) {
                problems.add("tls.cert_file", "required when tls.mode is " + mode + " (or set tls.self_signed: true)");
            }
            if (tls.keyFile().isEmpty()) {
                problems.add("tls.key_file", "required when tls.mode is " + mode + " (or set tls.self_signed: true)");
            }
        }
        if (tls.certFile().isPresent() && tls.keyFile().isEmpty()) {
            problems.add("tls.key_file", "required when tls.cert_file is set");
        }
        if (tls.keyFile().isPresent() && tls.certFile().isEmpty()) {
            problems.add("tls.cert_file", "required when tls.key_file is set");
        }
        tls.certFile().ifPresent(file -> readableFile("tls.cert_file", file, problems));
        tls.keyFile().ifPresent(file -> readableFile("tls.key_file", file, problems));
    }

    private static void readableFile(String path, Path file, Problems problems) {
        if (!Files.exists(file)) {
            problems.add(path, "file not found: " + file);
        } else if (!Files.isRegularFile(file)) {
            problems.add(path, "not a regular file: " + file);
        } else if (!Files.isReadable(file)) {
            problems.add(path, "file is not readable: " + file);
        }
    }

    private static void limits(LimitsConfig limits, Problems problems) {
        size("limits.max_frame_size", limits.maxFrameSize(), LimitsConfig.MAX_FRAME_SIZE_LIMIT, problems);
        size("limits.max_startup_packet_size", limits.maxStartupPacketSize(),
                LimitsConfig.MAX_STARTUP_PACKET_SIZE_LIMIT, problems);
        positive("limits.login_timeout", limits.loginTimeout(), problems);
        if (limits.shutdownTimeout().isNegative()) {
            problems.add("limits.shutdown_timeout", "must be >= 0 (0 = do not wait), got "
                    + Durations.format(limits.shutdownTimeout()));
        }
        LimitsConfig.Keepalive keepalive = limits.serverKeepalive();
        if (keepalive.idle().isNegative()) {
            problems.add("limits.server_keepalive_idle", "must be >= 0 (0 = the operating system's), got "
                    + Durations.format(keepalive.idle()));
        }
        if (keepalive.configured()) {
            // The kernel counts in whole seconds.
            wholeSeconds("limits.server_keepalive_idle", keepalive.idle(), problems);
            wholeSeconds("limits.server_keepalive_interval", keepalive.interval(), problems);
            greaterThanZero("limits.server_keepalive_count", keepalive.count(), problems);
        }
    }

    private static void wholeSeconds(String path, Duration duration, Problems problems) {
        if (duration.isNegative() || duration.isZero() || duration.toMillis() % 1000 != 0) {
            problems.add(path, "must be a whole number of seconds > 0, got " + Durations.format(duration));
        }
    }

    private static void size(String path, int bytes, int max, Problems problems) {
        if (bytes < LimitsConfig.MIN_SIZE) {
            problems.add(path, "must be at least " + LimitsConfig.MIN_SIZE + ", got " + Sizes.format(bytes));
        } else if (bytes > max) {
            problems.add(path, "must be at most " + Sizes.format(max) + ", got " + Sizes.format(bytes));
        }
    }

    private static void tenants(List<TenantConfig> tenants, Optional<String> defaultTenant, TlsConfig tls,
                                Problems problems) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < tenants.size(); i++) {
            TenantConfig tenant = tenants.get(i);
            String path = "tenants[" + i + "]";
            Optional<String> idProblem = tenantIdProblem(tenant.id());
            if (idProblem.isPresent()) {
                problems.add(path + ".id", idProblem.get());
            } else if (!ids.add(tenant.id())) {
                problems.add(path + ".id", "duplicate tenant id \"" + tenant.id() + "\"");
            }
            upstream(path + ".upstream", tenant.upstream(), problems);
            pool(path, tenant, problems);
            preparedStatements(path, tenant.preparedStatements(), problems);
            boolean plainNames = defaultTenant.filter(tenant.id()::equals).isPresent();
            users(path + ".users", tenant.users(), tenant.authQuery().isPresent(), plainNames, problems);
            databases(path + ".databases", tenant.databases(), problems);
            tenant.authQuery().ifPresent(auth -> authQuery(path, auth, plainNames, problems));
            access(path, tenant.access(), tls, problems);
        }
    }

    private static void authQuery(String path, AuthQueryConfig auth, boolean plainNames, Problems problems) {
        notEmpty(path + ".auth_user.name", auth.user().name(), problems);
        password(path + ".auth_user.password", auth.user(), plainNames, problems);
        if (auth.query().isBlank()) {
            problems.add(path + ".auth_query", "must not be empty");
        } else if (!auth.query().contains("$1")) {
            problems.add(path + ".auth_query", "must take the user name as its parameter $1, e.g. "
                    + AuthQueryConfig.DEFAULT_QUERY);
        }
        notNegative(path + ".auth_cache_ttl", auth.cacheTtl(), "0 = look up at every login", problems);
        notNegative(path + ".auth_failure_ttl", auth.failureTtl(), "0 = do not remember", problems);
    }

    private static void access(String path, AccessConfig access, TlsConfig tls, Problems problems) {
        List<String> allowList = access.allowList();
        for (int i = 0; i < allowList.size(); i++) {
            try {
                Cidr.parse(allowList.get(i));
            } catch (IllegalArgumentException e) {
                problems.add(path + ".allow_list[" + i + "]", e.getMessage());
            }
        }
        if (access.requireTls().orElse(false) && !tls.enabled()) {
            problems.add(path + ".require_tls", "clients cannot use TLS: tls.mode is disabled (set tls.mode to allowed)");
        }
    }

    private static void databases(String path, List<String> databases, Problems problems) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < databases.size(); i++) {
            String name = databases.get(i);
            if (name.isEmpty()) {
                problems.add(path + "[" + i + "]", "must not be empty");
            } else if (!seen.add(name)) {
                problems.add(path + "[" + i + "]", "\"" + name + "\" is listed twice");
            }
        }
    }

    private static void upstream(String path, UpstreamConfig upstream, Problems problems) {
        notEmpty(path + ".host", upstream.host(), problems);
        port(path + ".port", upstream.port(), 1, problems);
        notEmpty(path + ".database", upstream.database(), problems);
        UpstreamTls tls = upstream.tls();
        String mode = tls.mode().configName();
        if (tls.mode().verifiesCertificate() && tls.rootCert().isEmpty()) {
            problems.add(path + ".sslrootcert", "required with sslmode " + mode + " (a PEM file of the CAs to trust,"
                    + " or system for the Java runtime's)");
        }
        if (tls.systemRoots() && tls.mode() != SslMode.VERIFY_FULL) {
            problems.add(path + ".sslmode", "must be verify-full with sslrootcert system (as in libpq: the"
                    + " public CAs vouch for host names, not for a server of yours), got " + mode);
        }
        if (tls.mode() == SslMode.DISABLE && (tls.rootCert().isPresent() || tls.cert().isPresent())) {
            problems.add(path + ".sslmode", "is disable, so sslrootcert, sslcert and sslkey would have no effect");
        }
        if (tls.cert().isPresent() && tls.key().isEmpty()) {
            problems.add(path + ".sslkey", "required when sslcert is set");
        }
        if (tls.key().isPresent() && tls.cert().isEmpty()) {
            problems.add(path + ".sslcert", "required when sslkey is set");
        }
        tls.rootCertFile().ifPresent(file -> readableFile(path + ".sslrootcert", file, problems));
        tls.cert().ifPresent(file -> readableFile(path + ".sslcert", file, problems));
        tls.key().ifPresent(file -> readableFile(path + ".sslkey", file, problems));
    }

    private static void pool(String path, TenantConfig tenant, Problems problems) {
        greaterThanZero(path + ".pool_size", tenant.poolSize(), problems);
        if (tenant.minIdle() < 0) {
            problems.add(path + ".min_idle", "must be >= 0, got " + tenant.minIdle());
        } else if (tenant.poolSize() > 0 && tenant.minIdle() > tenant.poolSize()) {
            problems.add(path + ".min_idle", "must be <= pool_size (" + tenant.poolSize() + "), got " + tenant.minIdle());
        }
        greaterThanZero(path + ".max_clients", tenant.maxClients(), problems);
        positive(path + ".checkout_timeout", tenant.checkoutTimeout(), problems);
        positive(path + ".connect_timeout", tenant.connectTimeout(), problems);
        notNegative(path + ".idle_timeout", tenant.idleTimeout(), problems);
        notNegative(path + ".max_lifetime", tenant.maxLifetime(), problems);
    }

    private static void preparedStatements(String path, PreparedStatementsConfig prepared, Problems problems) {
        greaterThanZero(path + ".max_prepared_statements", prepared.maxPerServer(), problems);
        greaterThanZero(path + ".max_client_prepared_statements", prepared.maxPerClient(), problems);
    }

    private static void users(String path, List<UserConfig> users, boolean authQuery, boolean plainNames,
                              Problems problems) {
        if (users.isEmpty() && !authQuery) {
            problems.add(path, "at least one user is required (or an auth_user to look users up with auth_query)");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < users.size(); i++) {
            UserConfig user = users.get(i);
            String userPath = path + "[" + i + "]";
            if (user.name().isEmpty()) {
                problems.add(userPath + ".name", "must not be empty");
            } else if (!names.add(user.name())) {
                problems.add(userPath + ".name", "duplicate user name \"" + user.name() + "\"");
            }
            password(userPath + ".password", user, plainNames, problems);
        }
    }

    /** Says what is wrong with a password without ever echoing it. */
    private static void password(String path, UserConfig user, boolean plainNames, Problems problems) {
        notEmpty(path, user.password(), problems);
        switch (user.passwordKind()) {
            case SCRAM_SHA_256 -> Passwords.verifierProblem(user.password()).ifPresent(p -> problems.add(path, p));
            case MD5 -> {
                if (!plainNames) {
                    // libpq hashes the name it logs in with, name.tenant here, not the name the hash was made with.
                    problems.add(path, "an MD5 hash works only for users of the default_tenant, who log in with"
                            + " their plain name (the hash is salted with the user name, and clients of other"
                            + " tenants log in as name.tenant): give the password or its SCRAM-SHA-256 verifier");
                }
            }
            case PLAINTEXT -> { }
        }
    }

    private static void port(String path, int port, int min, Problems problems) {
        if (port < min || port > 65535) {
            problems.add(path, "must be a port number " + min + "..65535, got " + port);
        }
    }

    private static void greaterThanZero(String path, int value, Problems problems) {
        if (value <= 0) {
            problems.add(path, "must be > 0, got " + value);
        }
    }

    private static void positive(String path, Duration duration, Problems problems) {
        if (duration.isNegative() || duration.isZero()) {
            problems.add(path, "must be > 0, got " + Durations.format(duration));
        }
    }

    private static void notNegative(String path, Duration duration, Problems problems) {
        notNegative(path, duration, "0 = never", problems);
    }

    private static void notNegative(String path, Duration duration, String zeroMeans, Problems problems) {
        if (duration.isNegative()) {
            problems.add(path, "must be >= 0 (" + zeroMeans + "), got " + Durations.format(duration));
        }
    }

    private static void notEmpty(String path, String value, Problems problems) {
        if (value.isEmpty()) {
            problems.add(path, "must not be empty");
        }
    }
}
