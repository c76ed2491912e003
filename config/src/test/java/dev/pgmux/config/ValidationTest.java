package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.problems;
import static dev.pgmux.config.Yamls.tenantWith;
import static dev.pgmux.config.Yamls.topWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each rule, broken alone, gives exactly its own message under its own path. */
class ValidationTest {

    @TempDir
    Path dir;

    static Stream<Arguments> rules() {
        return Stream.of(
                arguments(topWith("listen: {admin_port: 70000}"),
                        "listen.admin_port: must be a port number 0..65535, got 70000"),
                arguments(topWith("listen: {transaction_port: -1}"),
                        "listen.transaction_port: must be a port number 0..65535, got -1"),
                arguments(topWith("listen: {host: ''}"), "listen.host: must not be empty"),
                arguments(topWith("listen: {transaction_port: 7000, session_port: 7000}"),
                        "listen.session_port: must differ from listen.transaction_port, both are 7000"),
                arguments(topWith("listen: {io_threads: -1}"),
                        "listen.io_threads: must be between 0 (half the cores) and 1024, got -1"),
                arguments(topWith("listen: {transport: kqueue}"),
                        "listen.transport: must be one of auto, io_uring, epoll, nio, got \"kqueue\""),
                arguments(topWith("listen: {proxy_protocol: v2}"),
                        "listen.proxy_protocol: must be one of off, optional, required, got \"v2\""),
                arguments(topWith("listen: {proxy_protocol: required, proxy_protocol_networks: [10.0.0.0/33]}"),
                        "listen.proxy_protocol_networks[0]: \"10.0.0.0/33\": the prefix length must be 0..32"),
                arguments(topWith("listen: {proxy_protocol_networks: [10.0.0.0/8]}"),
                        "listen.proxy_protocol_networks: has no effect while listen.proxy_protocol is off: set it to "
                                + "optional or required, or remove the networks"),
                arguments(topWith("listen: {admin_port: 6542}"),
                        "listen.admin_port: must differ from listen.session_port, both are 6542"),
                arguments(topWith("tls: {mode: sometimes}"),
                        "tls.mode: must be one of disabled, allowed, required, got \"sometimes\""),
                arguments(topWith("tls: {mode: off}"),
                        "tls.mode: must be one of disabled, allowed, required, got \"off\""),
                arguments(topWith("tls: {self_signed: maybe}"), "tls.self_signed: must be true or false, got \"maybe\""),
                arguments(topWith("limits: {max_frame_size: 2GB}"),
                        "limits.max_frame_size: must be at most 1GB, got 2GB"),
                arguments(topWith("limits: {max_frame_size: 4}"), "limits.max_frame_size: must be at least 8, got 4"),
                arguments(topWith("limits: {max_startup_packet_size: 2MB}"),
                        "limits.max_startup_packet_size: must be at most 1MB, got 2MB"),
                arguments(topWith("limits: {max_startup_packet_size: 7}"),
                        "limits.max_startup_packet_size: must be at least 8, got 7"),
                arguments(topWith("limits: {login_timeout: 0s}"), "limits.login_timeout: must be > 0, got 0s"),
                arguments(topWith("default_tenant: x"), "default_tenant: no tenant with id \"x\""),
                arguments("listen: {}\n", "tenants: at least one tenant is required (or cluster.metadata_url, where tenants are kept)"),
                arguments("tenants: []\n", "tenants: at least one tenant is required (or cluster.metadata_url, where tenants are kept)"),
                arguments("tenants: {id: a}\n", "tenants: must be a list, got a mapping"),
                arguments("tenants: [just-a-name]\n", "tenants[0]: must be a mapping, got a string"),
                arguments("listen: [6543]\n" + MINIMAL, "listen: must be a mapping, got a list"),
                arguments(tenantWith("pool_size: 0"), "tenants[0].pool_size: must be > 0, got 0"),
                arguments(tenantWith("pool_size: -1"), "tenants[0].pool_size: must be > 0, got -1"),
                arguments(tenantWith("pool_size: twenty"), "tenants[0].pool_size: must be an integer, got \"twenty\""),
                arguments(tenantWith("pool_size: 3000000000"), "tenants[0].pool_size: number out of range, got 3000000000"),
                arguments(tenantWith("pool_size: [1]"), "tenants[0].pool_size: must be an integer, got a list"),
                arguments(tenantWith("min_idle: -1"), "tenants[0].min_idle: must be >= 0, got -1"),
                arguments(tenantWith("pool_size: 5", "min_idle: 6"), "tenants[0].min_idle: must be <= pool_size (5), got 6"),
                arguments(tenantWith("max_clients: 0"), "tenants[0].max_clients: must be > 0, got 0"),
                arguments(tenantWith("checkout_timeout: 5 parsecs"),
                        "tenants[0].checkout_timeout: not a duration: \"5 parsecs\" (use e.g. 500ms, 30s, 10m, 1h)"),
                arguments(tenantWith("checkout_timeout: 0"), "tenants[0].checkout_timeout: must be > 0, got 0s"),
                arguments(tenantWith("connect_timeout: -5s"), "tenants[0].connect_timeout: must be > 0, got -5s"),
                arguments(tenantWith("idle_timeout: -1m"), "tenants[0].idle_timeout: must be >= 0 (0 = never), got -1m"),
                arguments(tenantWith("max_lifetime: -2h"), "tenants[0].max_lifetime: must be >= 0 (0 = never), got -2h"),
                arguments(tenantWith("max_lifetime: {h: 1}"), "tenants[0].max_lifetime: must be a duration, got a mapping"),
                arguments(tenantWith("server_reset_query: [DISCARD ALL]"),
                        "tenants[0].server_reset_query: must be a string, got a list"),
                arguments(tenantWith("prepared_statements: sometimes"),
                        "tenants[0].prepared_statements: must be one of rewrite, strip, passthrough, got \"sometimes\""),
                arguments(tenantWith("prepared_statements: 'off'"),
                        "tenants[0].prepared_statements: must be one of rewrite, strip, passthrough, got \"off\""),
                arguments(tenantWith("prepared_statements: [rewrite]"),
                        "tenants[0].prepared_statements: must be a string, got a list"),
                arguments(tenantWith("max_prepared_statements: 0"),
                        "tenants[0].max_prepared_statements: must be > 0, got 0"),
                arguments(tenantWith("max_prepared_statements: -5"),
                        "tenants[0].max_prepared_statements: must be > 0, got -5"),
                arguments(tenantWith("max_prepared_statements: lots"),
                        "tenants[0].max_prepared_statements: must be an integer, got \"lots\""),
                arguments(tenantWith("max_client_prepared_statements: 0"),
                        "tenants[0].max_client_prepared_statements: must be > 0, got 0"),
                arguments(tenantWith("max_client_prepared_statements: 3000000000"),
                        "tenants[0].max_client_prepared_statements: number out of range, got 3000000000"),
                arguments("limits: {server_keepalive_idle: -1s}\n" + MINIMAL,
                        "limits.server_keepalive_idle: must be >= 0 (0 = the operating system's), got -1s"),
                arguments("limits: {server_keepalive_interval: 1500ms}\n" + MINIMAL,
                        "limits.server_keepalive_interval: must be a whole number of seconds > 0, got 1500ms"),
                arguments("limits: {server_keepalive_count: 0}\n" + MINIMAL,
                        "limits.server_keepalive_count: must be > 0, got 0"),
                arguments("limits: {shutdown_timeout: -1s}\n" + MINIMAL,
                        "limits.shutdown_timeout: must be >= 0 (0 = do not wait), got -1s"),
                arguments(tenantWith("databases: app"), "tenants[0].databases: must be a list, got a string"),
                arguments(tenantWith("databases: [app, '']"), "tenants[0].databases[1]: must not be empty"),
                arguments(tenantWith("databases: [app, app]"), "tenants[0].databases[1]: \"app\" is listed twice"),
                arguments(tenantWith("databases: [app, [x]]"), "tenants[0].databases[1]: must be a string, got a list"),
                arguments(MINIMAL.replace("id: a", "id: my.project"),
                        "tenants[0].id: must use only letters, digits, _ and - ([A-Za-z0-9_-]+), got \"my.project\""),
                arguments(MINIMAL.replace("id: a", "id: ''"), "tenants[0].id: must not be empty"),
                arguments(MINIMAL.replace("  - id: a\n", "  -\n"), "tenants[0].id: is required"),
                arguments(MINIMAL + MINIMAL.replace("tenants:\n", ""), "tenants[1].id: duplicate tenant id \"a\""),
                arguments(MINIMAL.replace("host: db", "port: 5432"), "tenants[0].upstream.host: is required"),
                arguments(MINIMAL.replace("host: db", "host: db\n      port: 0"),
                        "tenants[0].upstream.port: must be a port number 1..65535, got 0"),
                arguments(MINIMAL.replace("host: db", "host: db\n      database: ''"),
                        "tenants[0].upstream.database: must not be empty"),
                arguments(MINIMAL.replace("    upstream:\n      host: db\n", "    upstream: db\n"),
                        "tenants[0].upstream: must be a mapping, got a string"),
                arguments(MINIMAL.replace("      - name: app\n        password: pw\n", "      []\n"),
                        "tenants[0].users: at least one user is required (or an auth_user to look users up with auth_query)"),
                arguments(MINIMAL.replace("    users:\n      - name: app\n        password: pw\n", ""),
                        "tenants[0].users: at least one user is required (or an auth_user to look users up with auth_query)"),
                arguments(MINIMAL.replace("name: app", "name: ''"), "tenants[0].users[0].name: must not be empty"),
                arguments(MINIMAL.replace("        password: pw\n", ""), "tenants[0].users[0].password: is required"),
                arguments(MINIMAL.replace("password: pw", "password: ''"), "tenants[0].users[0].password: must not be empty"),
                arguments(MINIMAL.replace("password: pw", "password: [p, w]"),
                        "tenants[0].users[0].password: must be a string, got a list"),
                arguments(MINIMAL + "      - name: app\n        password: other\n",
                        "tenants[0].users[1].name: duplicate user name \"app\""));
    }

    @ParameterizedTest
    @MethodSource("rules")
    void eachRuleHasItsMessageAndPath(String yaml, String expected) {
        assertThat(problems(yaml)).containsExactly(expected);
    }

    @Test
    void tlsNeedsFilesUnlessSelfSigned() {
        assertThat(problems(topWith("tls: {mode: required}"))).containsExactly(
                "tls.cert_file: required when tls.mode is required (or set tls.self_signed: true)",
                "tls.key_file: required when tls.mode is required (or set tls.self_signed: true)");
        assertThat(problems(topWith("tls: {mode: allowed}"))).first().asString()
                .isEqualTo("tls.cert_file: required when tls.mode is allowed (or set tls.self_signed: true)");
    }

    @Test
    void tlsFilesMustExistAndComeInPairs() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "cert");
        Path missing = dir.resolve("missing.pem");

        assertThat(problems(topWith("tls: {mode: required, cert_file: " + cert + ", key_file: " + missing + "}")))
                .containsExactly("tls.key_file: file not found: " + missing);
        assertThat(problems(topWith("tls: {cert_file: " + cert + "}")))
                .containsExactly("tls.key_file: required when tls.cert_file is set");
        assertThat(problems(topWith("tls: {mode: allowed, cert_file: " + dir + ", key_file: " + cert + "}")))
                .containsExactly("tls.cert_file: not a regular file: " + dir);
        assertThat(problems(topWith("tls: {self_signed: true, cert_file: " + cert + ", key_file: " + cert + "}")))
                .containsExactly("tls.self_signed: cannot be combined with tls.cert_file and tls.key_file (use one or the other)");
    }

    @Test
    void ioThreadsDefaultToHalfTheCoresAndAtLeastOne() {
        ListenConfig auto = Yamls.parse(topWith("listen: {transaction_port: 6543}")).listen();
        ListenConfig four = Yamls.parse(topWith("listen: {io_threads: 4}")).listen();

        assertThat(auto.ioThreads()).isZero();
        assertThat(auto.effectiveIoThreads(1)).isEqualTo(1);
        assertThat(auto.effectiveIoThreads(2)).isEqualTo(1);
        assertThat(auto.effectiveIoThreads(16)).isEqualTo(8);
        assertThat(four.effectiveIoThreads(16)).isEqualTo(4);
    }

    @Test
    void transportDefaultsToAutoAndTakesEachName() {
        assertThat(Yamls.parse(topWith("listen: {io_threads: 1}")).listen().transport()).isEqualTo(IoTransport.AUTO);
        for (IoTransport transport : IoTransport.values()) {
            assertThat(Yamls.parse(topWith("listen: {transport: ' " + transport.configName().toUpperCase() + " '}"))
                    .listen().transport()).isEqualTo(transport);
        }
    }

    @Test
    void theProxyProtocolIsOffByDefaultAndTakesItsNetworks() {
        assertThat(Yamls.parse(MINIMAL).listen().proxyProtocol()).isEqualTo(ProxyProtocolConfig.off());
        for (ProxyProtocolConfig.Mode mode : ProxyProtocolConfig.Mode.values()) {
            assertThat(Yamls.parse(topWith("listen: {proxy_protocol: " + mode.configName() + "}")).listen()
                    .proxyProtocol().mode()).isEqualTo(mode);
        }
        assertThat(Yamls.parse(topWith("listen: {proxy_protocol: optional, proxy_protocol_networks: [10.0.0.0/8, '::1']}"))
                .listen().proxyProtocol()).isEqualTo(ProxyProtocolConfig.of(ProxyProtocolConfig.Mode.OPTIONAL)
                        .withNetworks(List.of("10.0.0.0/8", "::1")));
    }

    @Test
    void reusePortIsOffByDefaultAndGoesWithEveryTransport() {
        assertThat(Yamls.parse(MINIMAL).listen().reusePort()).isFalse();
        for (String transport : new String[] {"auto", "io_uring", "epoll", "nio"}) {
            assertThat(Yamls.parse(topWith("listen: {transport: " + transport + ", reuse_port: true}")).listen().reusePort())
                    .as(transport).isTrue();
        }
    }

    @Test
    void shutdownTimeoutDefaultsToThirtySecondsAndMayBeZero() {
        assertThat(Yamls.parse(MINIMAL).limits().shutdownTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(Yamls.parse(topWith("limits: {shutdown_timeout: 0}")).limits().shutdownTimeout()).isZero();
        assertThat(Yamls.parse(topWith("limits: {shutdown_timeout: 2m}")).limits().shutdownTimeout())
                .isEqualTo(java.time.Duration.ofMinutes(2));
    }

    @Test
    void listenersMayAllUsePortZero() {
        assertThat(Yamls.parse(topWith("listen: {transaction_port: 0, session_port: 0, admin_port: 0}")).listen())
                .isEqualTo(ListenConfig.ephemeral());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String yaml = """
                listen:
                  admin_port: 70000
                  colour: blue
                tls:
                  mode: sometimes
                default_tenant: nobody
                tenants:
                  - id: a
                    upstream: {host: db}
                    pool_size: 0
                    checkout_timeout: 5 parsecs
                    users: [{name: app, password: pw}]
                  - id: a
                    upstream: {host: db, port: 99999}
                    users: []
                """;

        // In file order, section by section; shape problems before rule problems within a place.
        assertThat(problems(yaml)).containsExactly(
                "listen.colour: unknown key (known keys: host, transaction_port, session_port, admin_port, io_threads, transport, reuse_port, proxy_protocol, proxy_protocol_networks)",
                "listen.admin_port: must be a port number 0..65535, got 70000",
                "tls.mode: must be one of disabled, allowed, required, got \"sometimes\"",
                "default_tenant: no tenant with id \"nobody\"",
                "tenants[0].checkout_timeout: not a duration: \"5 parsecs\" (use e.g. 500ms, 30s, 10m, 1h)",
                "tenants[0].pool_size: must be > 0, got 0",
                "tenants[1].id: duplicate tenant id \"a\"",
                "tenants[1].upstream.port: must be a port number 1..65535, got 99999",
                "tenants[1].users: at least one user is required (or an auth_user to look users up with auth_query)");
    }

    @Test
    void theMessageListsEveryProblemOnItsOwnLine() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> Yamls.parse(tenantWith("pool_size: 0", "max_clients: 0")));

        assertThat(e.getMessage()).isEqualTo("""
                invalid configuration (2 problems):
                  tenants[0].pool_size: must be > 0, got 0
                  tenants[0].max_clients: must be > 0, got 0""");
    }

    @Test
    void aValueThatCannotBeReadIsNotReportedTwice() {
        // The unreadable id is replaced by a placeholder; the placeholder must not be reported as empty too.
        assertThat(problems(MINIMAL.replace("id: a", "id: [a]"))).containsExactly("tenants[0].id: must be a string, got a list");
    }
}
