package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgmux.loadtest.cli.Main;
import dev.pgmux.proxy.testing.TestPostgres;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the end-to-end tests share: the real Postgres, the pgmux jar, the command line. */
final class Fixture {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixture() {}

    /** The fixture's SCRAM role on the test Postgres, as a libpq URL. */
    static String upstream() {
        TestPostgres pg = TestPostgres.get();
        return "postgresql://" + TestPostgres.SCRAM.name() + ":" + TestPostgres.SCRAM.password() + "@127.0.0.1:"
                + pg.port() + "/postgres";
    }

    /** proxy/target/pgmux.jar, packaged by the proxy module before these tests run in the reactor. */
    static Path pgmuxJar() {
        Path jar = Path.of(System.getProperty("pgmux.jar", "../proxy/target/pgmux.jar")).toAbsolutePath().normalize();
        assertThat(jar).as("the pgmux jar (build the proxy module first: mvn -DskipTests package)").isRegularFile();
        return jar;
    }

    /** A fresh directory under target/ for one test's reports. */
    static Path outDir(String name) throws IOException {
        Path dir = Path.of("target", "e2e", name + "-" + System.nanoTime()).toAbsolutePath();
        Files.createDirectories(dir);
        return dir;
    }

    record Cli(int status, String out, String err) {
    }

    static Cli cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        Cli r = new Cli(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        System.out.println(r.out);
        System.err.println(r.err);
        return r;
    }

    static JsonNode json(Path file) throws IOException {
        assertThat(file).isRegularFile();
        return JSON.readTree(file.toFile());
    }

    /** The entry of {@code requests} with this name. */
    static JsonNode request(JsonNode report, String name) {
        for (JsonNode r : report.get("requests")) {
            if (r.get("name").asText().equals(name)) {
                return r;
            }
        }
        throw new AssertionError("no request \"" + name + "\" in the report: " + report.get("requests"));
    }
}
