package dev.pgmux.proxy.net;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.IoTransport;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.ConfigFiles;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.PgmuxProcess;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * pgmux in a container whose seccomp profile forbids io_uring, as Docker's default profile does: a pgmux process
 * of its own runs under a real seccomp filter (test resource {@code seccomp/deny-io-uring.py}) that answers
 * io_uring_setup, io_uring_enter and io_uring_register with EPERM. {@code transport: auto} says why it falls
 * back, then serves clients on epoll; {@code transport: io_uring} named explicitly refuses to start, saying why.
 */
@Timeout(120)
class TransportFallbackTest {
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void autoFallsBackToEpollWhereSeccompForbidsIoUringAndServesBothPorts() throws Exception {
        try (PgmuxProcess pgmux = PgmuxProcess.start("pgmux", config(IoTransport.AUTO), denyIoUring())
                .awaitListening(START)) {
            String log = pgmux.output();
            assertThat(log).contains("io_uring is not available (")
                    .contains("Operation not permitted")
                    .contains("a seccomp profile (a container's) or the kernel.io_uring_disabled sysctl forbids")
                    .contains("); using epoll")
                    .contains("(epoll transport");
            for (Port port : Port.values()) {
                try (Connection c = pgmux.connect(port, TestPostgres.SCRAM, new Properties())) {
                    assertThat(text(c, "SELECT 'served on ' || current_user")).isEqualTo("served on scram_user");
                }
            }
            pgmux.terminate();
            assertThat(pgmux.awaitExit(Duration.ofSeconds(30))).isZero();
        }
    }

    @Test
    void ioUringNamedExplicitlyRefusesToStartAndSaysWhy() throws Exception {
        try (PgmuxProcess pgmux = PgmuxProcess.start("pgmux", config(IoTransport.IO_URING), denyIoUring())) {
            assertThat(pgmux.awaitExit(START)).isEqualTo(1);
            assertThat(pgmux.output())
                    .contains("pgmux: cannot start: listen.transport io_uring is not available here: ")
                    .contains("Operation not permitted")
                    .contains("forbids io_uring; use listen.transport auto to fall back")
                    .doesNotContain("listening on");
        }
    }

    /** The fixture's tenant on free ports with {@code transport}, written where the process reads it. */
    private Path config(IoTransport transport) throws IOException {
        PgmuxConfig base = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant());
        Path file = dir.resolve("pgmux-" + transport.configName() + ".yaml");
        ConfigFiles.write(file, base.withListen(base.listen().withTransport(transport)));
        return file;
    }

    /** The filter as a command prefix: python3 installs it, then execs the JVM under it. */
    private static List<String> denyIoUring() throws URISyntaxException {
        URL script = TransportFallbackTest.class.getResource("/seccomp/deny-io-uring.py");
        assertThat(script).as("test resource seccomp/deny-io-uring.py").isNotNull();
        return List.of("python3", Path.of(script.toURI()).toString());
    }
}
