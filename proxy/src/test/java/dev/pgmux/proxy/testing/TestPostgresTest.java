package dev.pgmux.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Self-test of the {@link TestPostgres} fixture. */
class TestPostgresTest {

    private static TestPostgres pg;

    @BeforeAll
    static void startPostgres() {
        pg = TestPostgres.get();
    }

    @Test
    void isOneSharedInstance() {
        assertThat(TestPostgres.get()).isSameAs(pg);
        assertThat(pg.jdbcUrl("x")).isEqualTo("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/x");
        if (pg.managed()) {
            assertThat(pg.host()).isEqualTo("127.0.0.1");
        }
    }

    static Stream<TestRole> roles() {
        return Stream.of(TestPostgres.SCRAM, TestPostgres.MD5, TestPostgres.PLAIN, TestPostgres.TRUST);
    }

    @ParameterizedTest
    @MethodSource("roles")
    void eachRoleLogsInWithItsPassword(TestRole role) throws SQLException {
        try (Connection c = pg.connect(role.name(), role.password());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_user, current_database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(role.name());
            assertThat(rs.getString(2)).isEqualTo("postgres");
        }
    }

    @Test
    void superuserLogsIn() throws SQLException {
        try (Connection c = pg.superuser();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).isTrue();
        }
        if (pg.managed()) {
            assertThat(pg.superuserRole()).isEqualTo(TestPostgres.SUPERUSER);
        }
    }

    @Test
    void passwordsAreStoredInTheirFormats() throws SQLException {
        Map<String, String> stored = new HashMap<>();
        try (Connection c = pg.superuser();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN"
                     + " ('scram_user', 'md5_user', 'plain_user', 'trust_user', 'postgres')")) {
            while (rs.next()) {
                stored.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(stored.get("scram_user")).startsWith("SCRAM-SHA-256$");
        assertThat(stored.get("plain_user")).startsWith("SCRAM-SHA-256$");
        assertThat(stored.get("md5_user")).startsWith("md5").hasSize(35);
        assertThat(stored).containsKey("trust_user");
        assertThat(stored.get("trust_user")).isNull();
        if (pg.managed()) {
            assertThat(stored.get("postgres")).startsWith("SCRAM-SHA-256$");
        }
    }

    @Test
    void wrongPasswordIsRejected() {
        assertThatThrownBy(() -> pg.connect("scram_user", "not_scram_pass").close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        if (pg.managed()) {
            assertThatThrownBy(() -> pg.connect("md5_user", "not_md5_pass").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
            assertThatThrownBy(() -> pg.connect("plain_user", "not_plain_pass").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        }
    }

    @Test
    void managedClusterUsesTheTestPgHba() throws SQLException {
        if (!pg.managed()) {
            return; // an external server's pg_hba.conf is its administrator's
        }
        Map<String, String> methods = new HashMap<>();
        try (Connection c = pg.superuser();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT array_to_string(user_name, ','), auth_method, error"
                     + " FROM pg_hba_file_rules")) {
            while (rs.next()) {
                assertThat(rs.getString(3)).isNull();
                methods.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(methods).containsExactlyInAnyOrderEntriesOf(
                Map.of("trust_user", "trust", "plain_user", "password", "all", "md5"));
    }

    @Test
    void otherdbExistsAndIsOwnedByScramUser() throws SQLException {
        try (Connection c = pg.connect(TestPostgres.OTHER_DATABASE, "scram_user", "scram_pass");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_database(), pg_get_userbyid(datdba)"
                     + " FROM pg_database WHERE datname = current_database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("otherdb");
            assertThat(rs.getString(2)).isEqualTo("scram_user");
        }
    }

    @Test
    void rolesMayCreateTablesInPublic() throws SQLException {
        try (Connection c = pg.connect(TestPostgres.MD5.name(), TestPostgres.MD5.password());
             Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE fixture_probe (id int)"); // temp: needs no cleanup
            st.execute("CREATE TABLE IF NOT EXISTS fixture_probe_md5 (id int)");
            st.execute("DROP TABLE fixture_probe_md5");
        }
    }

    @Test
    void terminateBackendsEndsThatRolesSessions() throws SQLException {
        try (Connection victim = pg.connect(TestPostgres.MD5.name(), TestPostgres.MD5.password());
             Connection bystander = pg.connect(TestPostgres.SCRAM.name(), TestPostgres.SCRAM.password())) {
            pg.terminateBackends("md5_user");
            assertThatThrownBy(() -> {
                try (Statement st = victim.createStatement()) {
                    st.execute("SELECT 1");
                }
            }).isInstanceOf(SQLException.class);
            try (PreparedStatement ps = bystander.prepareStatement("SELECT 1");
                 ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void stopAndStartAgainOnTheSamePort() throws SQLException {
        if (!pg.managed()) {
            assertThatThrownBy(pg::stop).isInstanceOf(IllegalStateException.class).hasMessageContaining("managed cluster");
            assertThatThrownBy(pg::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("managed cluster");
            return;
        }
        int port = pg.port();
        try (Connection held = pg.connect("scram_user", "scram_pass")) {
            try {
                pg.stop();
                pg.stop(); // already stopped: nothing to do
                assertThatThrownBy(() -> pg.connect("scram_user", "scram_pass").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08001"));
                assertThat(held.isValid(2)).isFalse();
            } finally {
                pg.start();
            }
        }
        pg.start(); // already running: nothing to do
        assertThat(pg.port()).isEqualTo(port);
        try (Connection c = pg.connect("scram_user", "scram_pass");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(port);
        }
    }
}
