package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;

import java.sql.Connection;
import java.sql.Statement;

/**
 * The parameters a client is welcomed with follow the servers: once a new server reports other values
 * (Postgres restarted with other settings, ALTER ROLE ... SET), new clients are welcomed with those.
 */
@Timeout(60)
class LoginTemplateTest {
    private static final TestRole ROLE = TestPostgres.MD5;

    @ParameterizedTest
    @EnumSource(Port.class)
    void newClientsAreWelcomedWithWhatTheServersReportNow(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(); Connection su = TestPostgres.get().superuser();
             Statement admin = su.createStatement()) {
            try (Connection first = port.connect(pgmux, ROLE)) {
                assertThat(first.unwrap(PGConnection.class).getParameterStatus("IntervalStyle")).isEqualTo("postgres");
            }
            try {
                admin.execute("ALTER ROLE " + ROLE.name() + " SET IntervalStyle = 'iso_8601'");
                TestPostgres.get().terminateBackends(ROLE.name());
                Wait.until("the pool's servers gone", () -> pgmux.stats(ROLE).open() == 0);
                try (Connection c = port.connect(pgmux, ROLE)) {
                    assertThat(text(c, "SHOW IntervalStyle")).as("a new server").isEqualTo("iso_8601");
                }
                try (Connection next = port.connect(pgmux, ROLE)) {
                    assertThat(next.unwrap(PGConnection.class).getParameterStatus("IntervalStyle"))
                            .as("the welcome of a client after the change").isEqualTo("iso_8601");
                    assertThat(text(next, "SHOW IntervalStyle")).isEqualTo("iso_8601");
                }
            } finally {
                admin.execute("ALTER ROLE " + ROLE.name() + " RESET IntervalStyle");
            }
        }
    }
}
