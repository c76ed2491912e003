package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.running;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * psql's Ctrl-C, that is libpq's PQcancel, as a person at a terminal sends it: on both ports it stops the
 * statement running upstream, and psql reports Postgres' own error.
 */
@Timeout(60)
class PsqlCancelTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension();

    @ParameterizedTest
    @EnumSource(Port.class)
    void ctrlCInPsqlCancelsTheStatement(Port port) throws Exception {
        String sql = "SELECT pg_sleep(30) /* psql ctrl-c on " + port + " */";
        ProcessBuilder builder = new ProcessBuilder(psql().toString(), "-X", "-h", "127.0.0.1",
                "-p", String.valueOf(port.of(pgmux.get())), "-U", PgmuxHarness.tenantUser(ROLE), "-d", "postgres", "-c", sql)
                .redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", ROLE.password());
        builder.environment().put("PGSSLMODE", "disable");
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        Process psql = builder.start();
        try {
            Wait.until("psql's statement running upstream", () -> running(sql) == 1 || !psql.isAlive());
            assertThat(psql.isAlive()).as("psql still waiting for its statement").isTrue();
            signal("INT", psql.pid());
            assertThat(psql.waitFor(15, TimeUnit.SECONDS)).as("psql ended soon after Ctrl-C").isTrue();
            String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(output).contains("canceling statement due to user request");
            assertThat(psql.exitValue()).isNotZero();
            Wait.until("the statement gone upstream", () -> running(sql) == 0);
        } finally {
            psql.destroyForcibly();
        }
    }

    /** psql from the same PostgreSQL installation the tests' server comes from, else the one on the PATH. */
    private static Path psql() {
        Path bin = TestPostgres.binaries();
        if (bin != null && bin.resolve("psql").toFile().canExecute()) {
            return bin.resolve("psql");
        }
        return Path.of("psql");
    }

    /** Sends a signal the JDK cannot send itself (Ctrl-C is SIGINT) to a process this test started. */
    private static void signal(String name, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", name, pid).isTrue();
    }
}
