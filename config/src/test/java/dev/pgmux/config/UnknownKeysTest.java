package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static dev.pgmux.config.Yamls.problems;
import static dev.pgmux.config.Yamls.tenantWith;
import static dev.pgmux.config.Yamls.topWith;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A misspelt key must never be silently ignored, at any level. */
class UnknownKeysTest {

    @Test
    void atTheTop() {
        assertThat(problems(topWith("listn: {host: 0.0.0.0}"))).containsExactly(
                "listn: unknown key (known keys: listen, admin, tls, limits, log, default_tenant, tenants, admin_users, stats_users, cluster)");
    }

    @Test
    void inListen() {
        assertThat(problems(topWith("listen: {port: 5432}"))).containsExactly(
                "listen.port: unknown key (known keys: host, transaction_port, session_port, admin_port, io_threads, transport, reuse_port, proxy_protocol, proxy_protocol_networks)");
    }

    @Test
    void inTls() {
        assertThat(problems(topWith("tls: {certificate: x.pem}"))).containsExactly(
                "tls.certificate: unknown key (known keys: mode, cert_file, key_file, self_signed)");
    }

    @Test
    void inLimits() {
        assertThat(problems(topWith("limits: {max_message_size: 1MB}"))).containsExactly(
                "limits.max_message_size: unknown key (known keys: max_frame_size, max_startup_packet_size, login_timeout, "
                        + "server_keepalive_idle, server_keepalive_interval, server_keepalive_count, shutdown_timeout)");
    }

    @Test
    void inATenant() {
        assertThat(problems(tenantWith("pool_sise: 5"))).containsExactly(
                "tenants[0].pool_sise: unknown key (known keys: id, upstream, pool_size, min_idle, max_clients, "
                        + "checkout_timeout, connect_timeout, idle_timeout, max_lifetime, server_reset_query, "
                        + "prepared_statements, max_prepared_statements, max_client_prepared_statements, "
                        + "cache_unnamed_statements, unnamed_statement_plans, users, databases, "
                        + "auth_user, auth_query, auth_cache_ttl, auth_failure_ttl, allow_list, require_tls)");
    }

    @Test
    void misspeltPreparedStatementKeysAreNamedWithTheKnownOnes() {
        assertThat(problems(tenantWith("prepared_statement: strip"))).singleElement().asString()
                .startsWith("tenants[0].prepared_statement: unknown key (known keys: ")
                .contains("prepared_statements, max_prepared_statements, max_client_prepared_statements");
    }

    @Test
    void inAnUpstream() {
        assertThat(problems(MINIMAL.replace("host: db", "host: db\n      dbname: app"))).containsExactly(
                "tenants[0].upstream.dbname: unknown key (known keys: host, port, database, sslmode, sslrootcert, sslcert, sslkey)");
    }

    @Test
    void inAUser() {
        assertThat(problems(MINIMAL.replace("password: pw", "password: pw\n        role: admin"))).containsExactly(
                "tenants[0].users[0].role: unknown key (known keys: name, password, pool_mode)");
    }

    @Test
    void keysThatAreNotStrings() {
        assertThat(problems(topWith("1: one"))).containsExactly(
                "1: unknown key (known keys: listen, admin, tls, limits, log, default_tenant, tenants, admin_users, stats_users, cluster)");
    }

    @Test
    void valuesUnderUnknownKeysAreNotSubstituted() {
        // Only the unknown key is reported, not the variable it mentions.
        assertThat(problems(topWith("extra: ${NOT_SET}"))).containsExactly(
                "extra: unknown key (known keys: listen, admin, tls, limits, log, default_tenant, tenants, admin_users, stats_users, cluster)");
    }
}
