package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.testing.Wait;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code scripts/supabase-local.sh} as a user runs it: it starts a throwaway Postgres set up as Supabase's images
 * (role and function pgbouncer.get_auth), pgmux in front of it looking users up with auth_query, prints
 * DATABASE_URL and DIRECT_URL and nothing else on standard output; pgjdbc logs in through both URLs exactly as
 * printed (TLS included), and SIGTERM stops pgmux and Postgres and removes the temporary directory.
 * pgmux runs from the test classpath (PGMUX_CMD), on free ports instead of 6543 and 5432.
 */
@Timeout(300)
class SupabaseLocalScriptTest {
    private static final Pattern URL = Pattern.compile("^(DATABASE_URL|DIRECT_URL)=(postgresql://.+)$");
    private static final Pattern POSTGRES_PORT = Pattern.compile("throwaway Postgres \\S+ on 127\\.0\\.0\\.1:(\\d+)");

    @Test
    void printsBothUrlsThatLogInThroughPgmuxAndCleansUpOnSigterm() throws Exception {
        Path tmp = Files.createTempDirectory("supabase-local-test-");
        // The throwaway Postgres runs as the postgres OS user when the tests run as root: it must reach its directory.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        int transactionPort = freePort();
        int sessionPort = freePort();
        ProcessBuilder builder = new ProcessBuilder("bash", repositoryFile("scripts/supabase-local.sh").toString(),
                "--project-ref", "scripttest", "--port", Integer.toString(transactionPort),
                "--session-port", Integer.toString(sessionPort));
        builder.environment().put("PGMUX_CMD", pgmuxCommand(tmp).toString());
        builder.environment().put("TMPDIR", tmp.toString());
        Process script = builder.start();
        Lines stdout = new Lines(script.getInputStream());
        Lines stderr = new Lines(script.getErrorStream());
        try {
            Wait.until("both URLs printed", Duration.ofSeconds(180), () -> {
                if (!script.isAlive()) {
                    throw new AssertionError("the script exited with " + script.exitValue() + ":\n" + stderr);
                }
                return stdout.lines().size() >= 2;
            }, stderr::toString);
            List<String> printed = stdout.lines();
            assertThat(printed).as("standard output").hasSize(2);
            assertThat(printed.get(0)).startsWith("DATABASE_URL=postgresql://postgres.scripttest:")
                    .endsWith("@127.0.0.1:" + transactionPort + "/postgres");
            assertThat(printed.get(1)).startsWith("DIRECT_URL=postgresql://postgres.scripttest:")
                    .endsWith("@127.0.0.1:" + sessionPort + "/postgres");

            for (String line : printed) {
                Matcher m = URL.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                for (String sslmode : List.of("disable", "require")) {
                    try (Connection c = connect(m.group(2), sslmode)) {
                        assertThat(text(c, "SELECT current_user")).isEqualTo("postgres");
                        assertThat(text(c, "SELECT count(*) FROM pg_catalog.pg_proc p "
                                + "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                                + "WHERE n.nspname = 'pgbouncer' AND p.proname = 'get_auth' AND p.prosecdef"))
                                .as("Supabase's pgbouncer.get_auth, SECURITY DEFINER").isEqualTo("1");
                    }
                }
            }
            Matcher pg = POSTGRES_PORT.matcher(stderr.toString());
            assertThat(pg.find()).as("the throwaway Postgres's port on stderr:\n" + stderr).isTrue();
            int postgresPort = Integer.parseInt(pg.group(1));
            List<ProcessHandle> started = script.descendants().toList();
            assertThat(started).as("pgmux runs under the script").isNotEmpty();

            assertThat(script.toHandle().destroy()).as("SIGTERM sent").isTrue();
            assertThat(script.waitFor(60, TimeUnit.SECONDS)).as("the script ended after SIGTERM:\n" + stderr).isTrue();
            assertThat(script.exitValue()).isEqualTo(143);
            Wait.until("pgmux gone", () -> started.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(refused(postgresPort)).as("the throwaway Postgres stopped").isTrue();
            assertThat(refused(transactionPort)).isTrue();
            assertThat(refused(sessionPort)).isTrue();
            try (Stream<Path> left = Files.list(tmp)) {
                assertThat(left.map(p -> p.getFileName().toString())).as("the script's temporary directory removed")
                        .containsExactly("pgmux-test-command");
            }
        } finally {
            script.descendants().forEach(ProcessHandle::destroyForcibly);
            script.destroyForcibly();
            script.waitFor(30, TimeUnit.SECONDS);
            deleteRecursively(tmp);
        }
    }

    /** pgjdbc on a URL exactly as printed: postgresql://USER:PASSWORD@HOST:PORT/DATABASE. */
    private static Connection connect(String url, String sslmode) throws Exception {
        URI uri = URI.create(url);
        String[] credentials = uri.getRawUserInfo().split(":", 2);
        Properties props = new Properties();
        props.setProperty("user", URLDecoder.decode(credentials[0], StandardCharsets.UTF_8));
        props.setProperty("password", URLDecoder.decode(credentials[1], StandardCharsets.UTF_8));
        props.setProperty("sslmode", sslmode);
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath(), props);
    }

    /** A command that runs pgmux's main class from the test classpath with the test JVM's java. */
    private static Path pgmuxCommand(Path dir) throws IOException {
        Path command = dir.resolve("pgmux-test-command");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(command, "#!/bin/sh\nexec '" + java + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m"
                + " --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path")
                + "' dev.pgmux.proxy.Main \"$@\"\n");
        Files.setPosixFilePermissions(command, PosixFilePermissions.fromString("rwxr-xr-x"));
        return command;
    }

    private static Path repositoryFile(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(relative))) {
                return dir.resolve(relative);
            }
        }
        throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean refused(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The lines of a stream, read as they come on a thread of their own. */
    private static final class Lines {
        private final List<String> lines = new ArrayList<>();

        Lines(InputStream in) {
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(line);
                        }
                    }
                } catch (IOException e) {
                    // the process is gone
                }
            }, "supabase-local-output");
            reader.setDaemon(true);
            reader.start();
        }

        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        @Override
        public String toString() {
            return String.join("\n", lines());
        }
    }
}
