package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Which databases a tenant's clients may name, and how long pools live: a pool exists while it has clients
 * or servers, and not for a database nobody may use or that the upstream refused.
 */
@Timeout(60)
class PoolsTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    private static Connection connect(PgmuxHarness pgmux, Port port, String database) throws SQLException {
        Properties props = PgmuxHarness.loginProperties(ROLE, new Properties());
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(port.jdbcUrl(pgmux, database), props);
    }

    private static boolean hasPool(PgmuxHarness pgmux, String database) {
        return pgmux.server().runtime().pools().all().stream().anyMatch(p -> p.key().database().equals(database));
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aDatabaseTheTenantDoesNotListIsRefusedAsPostgresWouldWithoutAPool(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> connect(pgmux, port, TestPostgres.OTHER_DATABASE).close());
            assertThat((Object) e).as("login to a database the tenant does not list").isNotNull();
            assertThat(e.getSQLState()).isEqualTo("3D000");
            assertThat(e.getMessage()).contains("database \"" + TestPostgres.OTHER_DATABASE + "\" does not exist");
            assertThat(hasPool(pgmux, TestPostgres.OTHER_DATABASE)).as("a pool for it").isFalse();
            try (Connection c = connect(pgmux, port, "postgres")) {
                assertThat(text(c, "SELECT current_database()")).isEqualTo("postgres");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void listedDatabasesAreReachable(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withDatabases(List.of("postgres", TestPostgres.OTHER_DATABASE)));
             Connection c = connect(pgmux, port, TestPostgres.OTHER_DATABASE)) {
            assertThat(text(c, "SELECT current_database()")).isEqualTo(TestPostgres.OTHER_DATABASE);
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aPoolWhoseLoginFailedIsNotKept(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withDatabases(List.of("postgres", "no_such_db")))) {
            for (int i = 0; i < 3; i++) {
                SQLException e = catchThrowableOfType(SQLException.class, () -> connect(pgmux, port, "no_such_db").close());
                assertThat((Object) e).as("login to a database the upstream lacks").isNotNull();
                assertThat(e.getSQLState()).as("Postgres' own answer, %s", e).isEqualTo("3D000");
            }
            Wait.until("the pool of the refused database removed", () -> !hasPool(pgmux, "no_such_db"));
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aPoolWithNoClientsAndNoServersGoesAfterTheIdleTimeout(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withIdleTimeout(Duration.ofMillis(500)))) {
            try (Connection c = connect(pgmux, port, "postgres")) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
                ServerPool pool = pgmux.pool(ROLE).orElseThrow();
                assertThat(pool.clients()).isEqualTo(1);
            }
            Wait.until("the unused pool removed", Wait.DEFAULT, () -> pgmux.pool(ROLE).isEmpty(),
                    () -> String.valueOf(pgmux.pool(ROLE).map(ServerPool::stats).orElse(null)));
            try (Connection c = connect(pgmux, port, "postgres")) {
                assertThat(text(c, "SELECT 'a new pool'")).isEqualTo("a new pool");
            }
        }
    }
}
