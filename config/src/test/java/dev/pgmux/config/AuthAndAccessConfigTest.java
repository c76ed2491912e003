package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.parse;
import static dev.pgmux.config.Yamls.problems;
import static dev.pgmux.config.Yamls.tenantWith;
import static dev.pgmux.config.Yamls.topWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Upstream TLS, stored passwords, auth_query and access rules: how they are read, checked and compared. */
class AuthAndAccessConfigTest {

    private static final String VERIFIER = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"
            + "bjCEEX4m8ORX6ZGSf2zLIWDSnpdvHRaa2gSUyoAZs6Q=:/AbpFGdOvPZxAdgHTYmcZ3NlR+pxcgTAyhYTXWWQYNU=";

    @TempDir
    Path dir;

    @Test
    void upstreamTlsDefaultsToPreferLikeLibpq() {
        UpstreamTls tls = parse(MINIMAL).tenants().getFirst().upstream().tls();

        assertThat(tls).isEqualTo(UpstreamTls.defaults());
        assertThat(tls.mode()).isEqualTo(SslMode.PREFER);
        assertThat(tls.verifiesCertificate()).isFalse();
    }

    @Test
    void upstreamTlsIsReadWithLibpqNames() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        Path cert = Files.writeString(dir.resolve("client.pem"), "x");
        Path key = Files.writeString(dir.resolve("client.key"), "x");
        String yaml = MINIMAL.replace("host: db", "host: db\n      sslmode: Verify-Full\n      sslrootcert: " + ca
                + "\n      sslcert: " + cert + "\n      sslkey: " + key);

        UpstreamTls tls = parse(yaml).tenants().getFirst().upstream().tls();

        assertThat(tls.mode()).isEqualTo(SslMode.VERIFY_FULL);
        assertThat(tls.rootCertFile()).contains(ca);
        assertThat(tls.cert()).contains(cert);
        assertThat(tls.key()).contains(key);
        assertThat(tls.verifiesHostName()).isTrue();
    }

    @Test
    void requireWithARootCertificateVerifiesItAsLibpqDoes() {
        assertThat(UpstreamTls.of(SslMode.REQUIRE).verifiesCertificate()).isFalse();
        assertThat(UpstreamTls.of(SslMode.REQUIRE).withRootCert("/ca.pem").verifiesCertificate()).isTrue();
        assertThat(UpstreamTls.of(SslMode.REQUIRE).withRootCert("/ca.pem").verifiesHostName()).isFalse();
        // libpq loads the root CA whatever the mode, so prefer and allow check the chain as well.
        assertThat(UpstreamTls.of(SslMode.PREFER).withRootCert("/ca.pem").verifiesCertificate()).isTrue();
        assertThat(UpstreamTls.of(SslMode.ALLOW).withRootCert("/ca.pem").verifiesCertificate()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "sslmode: sometimes | tenants[0].upstream.sslmode: must be one of disable, allow, prefer, require, verify-ca, verify-full, got \"sometimes\"",
            "sslmode: verify-ca | tenants[0].upstream.sslrootcert: required with sslmode verify-ca (a PEM file of the CAs to trust, or system for the Java runtime's)",
            "sslmode: verify-full | tenants[0].upstream.sslrootcert: required with sslmode verify-full (a PEM file of the CAs to trust, or system for the Java runtime's)",
            "sslmode: require ;; sslrootcert: system | tenants[0].upstream.sslmode: must be verify-full with sslrootcert system (as in libpq: the public CAs vouch for host names, not for a server of yours), got require",
            "sslmode: require ;; sslrootcert: /nonexistent/ca.pem | tenants[0].upstream.sslrootcert: file not found: /nonexistent/ca.pem",
            "sslmode: disable ;; sslrootcert: /nonexistent/ca.pem | tenants[0].upstream.sslmode: is disable, so sslrootcert, sslcert and sslkey would have no effect"})
    void upstreamTlsRules(String lines, String problem) {
        String yaml = MINIMAL.replace("host: db", "host: db\n      " + lines.replace(" ;; ", "\n      "));

        assertThat(problems(yaml)).contains(problem);
    }

    @Test
    void aClientCertificateNeedsItsKeyAndTheOtherWayRound() throws Exception {
        Path file = Files.writeString(dir.resolve("client.pem"), "x");

        assertThat(problems(MINIMAL.replace("host: db", "host: db\n      sslcert: " + file)))
                .containsExactly("tenants[0].upstream.sslkey: required when sslcert is set");
        assertThat(problems(MINIMAL.replace("host: db", "host: db\n      sslkey: " + file)))
                .containsExactly("tenants[0].upstream.sslcert: required when sslkey is set");
    }

    @Test
    void upstreamUrlTakesTheSameParameters() {
        UpstreamTls tls = UpstreamUrl.toConfig("postgresql://app:pw@db.example.com/app?sslmode=verify-full&sslrootcert=system")
                .tenants().getFirst().upstream().tls();

        assertThat(tls.mode()).isEqualTo(SslMode.VERIFY_FULL);
        assertThat(tls.systemRoots()).isTrue();
        assertThat(UpstreamUrl.toConfig("postgresql://app:pw@db/app?sslmode=disable").tenants().getFirst()
                .upstream().tls().mode()).isEqualTo(SslMode.DISABLE);
    }

    @Test
    void passwordsAreToldApartByTheirShape() {
        assertThat(Passwords.kind("hunter2")).isEqualTo(Passwords.Kind.PLAINTEXT);
        assertThat(Passwords.kind(VERIFIER)).isEqualTo(Passwords.Kind.SCRAM_SHA_256);
        assertThat(Passwords.kind("md5" + "0123456789abcdef0123456789abcdef")).isEqualTo(Passwords.Kind.MD5);
        // Not quite an MD5 hash: a password like any other.
        assertThat(Passwords.kind("md5" + "0123456789ABCDEF0123456789ABCDEF")).isEqualTo(Passwords.Kind.PLAINTEXT);
        assertThat(Passwords.verifierProblem(VERIFIER)).isEmpty();
    }

    @Test
    void aBrokenVerifierIsReportedWithoutBeingRepeated() {
        String broken = VERIFIER.substring(0, VERIFIER.length() - 8);

        List<String> problems = problems(MINIMAL.replace("password: pw", "password: '" + broken + "'"));

        assertThat(problems).containsExactly("tenants[0].users[0].password: SCRAM-SHA-256 verifier: StoredKey and ServerKey must be 32 bytes each");
        assertThat(String.join("\n", problems)).doesNotContain("bjCEEX4m8");
    }

    @Test
    void anMd5HashIsRefusedWhereClientsLogInAsNameDotTenant() {
        String hash = "md5" + "0123456789abcdef0123456789abcdef";
        String yaml = MINIMAL.replace("password: pw", "password: " + hash);

        assertThat(problems(yaml)).singleElement().asString().startsWith(
                "tenants[0].users[0].password: an MD5 hash works only for users of the default_tenant");
        assertThat(parse("default_tenant: a\n" + yaml).tenants().getFirst().users().getFirst().passwordKind())
                .isEqualTo(Passwords.Kind.MD5);
    }

    @Test
    void authQueryTenantsMayListNoUsers() {
        String yaml = """
                tenants:
                  - id: a
                    upstream: {host: db}
                    auth_user: {name: pgbouncer, password: pw}
                    auth_query: SELECT * FROM pgbouncer.get_auth($1)
                    auth_cache_ttl: 30s
                """;

        TenantConfig tenant = parse(yaml).tenants().getFirst();

        assertThat(tenant.users()).isEmpty();
        assertThat(tenant.authQuery()).contains(new AuthQueryConfig(new UserConfig("pgbouncer", "pw"),
                AuthQueryConfig.SUPABASE_QUERY, Duration.ofSeconds(30), AuthQueryConfig.DEFAULT_FAILURE_TTL));
    }

    @Test
    void authQueryDefaultsToPgBouncersQuery() {
        TenantConfig tenant = parse(tenantWith("auth_user: {name: pgbouncer, password: pw}")).tenants().getFirst();

        assertThat(tenant.authQuery()).map(AuthQueryConfig::query).contains(AuthQueryConfig.DEFAULT_QUERY);
    }

    @Test
    void authQueryRules() {
        assertThat(problems(tenantWith("auth_query: SELECT 1"))).containsExactly(
                "tenants[0].auth_query: has no effect without auth_user (the user that runs the query)");
        assertThat(problems(tenantWith("auth_user: {name: pgbouncer, password: pw}", "auth_query: SELECT 1")))
                .containsExactly("tenants[0].auth_query: must take the user name as its parameter $1, e.g. "
                        + AuthQueryConfig.DEFAULT_QUERY);
        assertThat(problems(tenantWith("auth_user: {name: pgbouncer}", "auth_failure_ttl: -1s"))).containsExactly(
                "tenants[0].auth_user.password: is required",
                "tenants[0].auth_failure_ttl: must be >= 0 (0 = do not remember), got -1s");
    }

    @Test
    void accessRulesAreRead() {
        PgmuxConfig config = parse(topWith("tls: {mode: allowed, self_signed: true}")
                + "    allow_list: [10.0.0.0/8, '::1', 192.168.1.7]\n    require_tls: true\n");

        AccessConfig access = config.tenants().getFirst().access();

        assertThat(access.allowList()).containsExactly("10.0.0.0/8", "::1", "192.168.1.7");
        assertThat(access.requireTls()).contains(true);
        assertThat(parse(MINIMAL).tenants().getFirst().access()).isEqualTo(AccessConfig.open());
    }

    @Test
    void accessRules() {
        assertThat(problems(tenantWith("allow_list: [10.0.0.0/33, example.com, 10.0.0.0/8]"))).containsExactly(
                "tenants[0].allow_list[0]: \"10.0.0.0/33\": the prefix length must be 0..32",
                "tenants[0].allow_list[1]: \"example.com\" is not an IP address or network (expected e.g. 10.0.0.0/8 or fd00::/8)");
        assertThat(problems(tenantWith("require_tls: true"))).containsExactly(
                "tenants[0].require_tls: clients cannot use TLS: tls.mode is disabled (set tls.mode to allowed)");
    }

    @Test
    void cidrMatching() throws Exception {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.contains(InetAddress.getByName("10.200.3.4"))).isTrue();
        assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(ten.contains(InetAddress.getByName("::ffff:10.1.2.3"))).isTrue();
        assertThat(ten.contains(InetAddress.getByName("::1"))).isFalse();
        assertThat(Cidr.parse("127.0.0.1").contains(InetAddress.getByName("127.0.0.1"))).isTrue();
        assertThat(Cidr.parse("127.0.0.1").contains(InetAddress.getByName("127.0.0.2"))).isFalse();
        assertThat(Cidr.parse("fd00::/8").contains(InetAddress.getByName("fd12::1"))).isTrue();
        assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("203.0.113.9"))).isTrue();
        assertThat(Cidr.parse("10.1.2.3/8")).isEqualTo(ten);
        assertThatIllegalArgumentException().isThrownBy(() -> Cidr.parse("300.1.1.1"));
    }

    @Test
    void aUsersPoolModeOverridesThePort() {
        UserConfig user = parse(MINIMAL.replace("password: pw", "password: pw\n        pool_mode: session"))
                .tenants().getFirst().users().getFirst();

        assertThat(user.poolMode()).contains(PoolMode.SESSION);
        assertThat(problems(MINIMAL.replace("password: pw", "password: pw\n        pool_mode: statement")))
                .containsExactly("tenants[0].users[0].pool_mode: must be one of session, transaction, got \"statement\"");
    }

    @Test
    void aReloadNamesEveryNewSettingAndNoSecret() {
        TenantConfig before = TenantConfig.of("acme", UpstreamConfig.of("db", 5432), new UserConfig("app", "old-secret"));
        TenantConfig after = before
                .withUpstream(UpstreamConfig.of("db", 5432).withTls(UpstreamTls.of(SslMode.VERIFY_FULL).withRootCert("system")))
                .withUsers(List.of(new UserConfig("app", "new-secret").withPoolMode(PoolMode.SESSION)))
                .withAuthQuery(AuthQueryConfig.of(new UserConfig("pgbouncer", "auth-secret"), AuthQueryConfig.SUPABASE_QUERY))
                .withAccess(AccessConfig.open().withAllowList(List.of("10.0.0.0/8")));
        PgmuxConfig running = PgmuxConfig.of(before);
        PgmuxConfig next = new PgmuxConfig(running.listen(), TlsConfig.selfSigned(TlsMode.ALLOWED), running.limits(),
                Optional.empty(), List.of(after.withAccess(after.access().withRequireTls(true))), running.admin(),
                running.console());

        List<String> changes = ConfigChanges.between(running, next).changes();

        assertThat(changes).contains(
                "tenants[acme].upstream.sslmode: prefer -> verify-full",
                "tenants[acme].upstream.sslrootcert: none -> system",
                "tenants[acme].users[app].password: changed",
                "tenants[acme].users[app].pool_mode: (port) -> session",
                "tenants[acme].auth_user: set",
                "tenants[acme].allow_list: [] -> [10.0.0.0/8]",
                "tenants[acme].require_tls: (tls.mode) -> true");
        assertThat(String.join("\n", changes)).doesNotContain("secret");
    }
}
