package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.Target;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts pgmux as a separate process ({@code java -jar pgmux.jar --config FILE}) with a generated
 * configuration on free ports of 127.0.0.1, waits until its admin port answers {@code /ready}, and stops it
 * by destroying the process. The load generator thus reaches it only over the network, as any client.
 */
public final class PgmuxLauncher {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int ATTEMPTS = 3;
    /** The configuration holds the upstream password: readable by its owner only. */
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    /** Processes to destroy if this JVM exits first (Ctrl-C in the middle of a sweep). */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "pgmux-launcher-cleanup"));
    }

    private final Path jar;
    private final List<String> javaOptions;
    private final Map<String, String> tenantSettings;

    public PgmuxLauncher(Path jar, List<String> javaOptions, Map<String, String> tenantSettings) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("pgmux jar not found: " + jar + " (build it with mvn -DskipTests package, or give --pgmux-jar)");
        }
        this.jar = jar;
        this.javaOptions = List.copyOf(javaOptions);
        this.tenantSettings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tenantSettings));
    }

    public Path jar() {
        return jar;
    }

    public Map<String, String> tenantSettings() {
        return tenantSettings;
    }

    /** The same pgmux with {@code settings} added to the tenant's, overriding those of the same key. */
    public PgmuxLauncher withTenantSettings(Map<String, String> settings) {
        Map<String, String> merged = new java.util.LinkedHashMap<>(tenantSettings);
        merged.putAll(settings);
        return new PgmuxLauncher(jar, javaOptions, merged);
    }

    /**
     * Asks this pgmux whether it accepts the configuration it would be started with ({@code java -jar pgmux.jar
     * check --config FILE}, which opens no port and connects nowhere). Empty when it does; else pgmux's own report of
     * every problem, with the temporary file's path replaced by {@code name}. A pgmux without {@code check} (it
     * answers with a usage error) is taken at its word when it is started.
     */
    public Optional<String> check(Target upstream, String name) throws IOException {
        Path config = Files.createTempFile("pgmux-loadtest-", ".yaml", OWNER_ONLY);
        try {
            PgmuxConfigYaml.Ports ports = new PgmuxConfigYaml.Ports(freePort(), freePort(), freePort());
            Files.writeString(config, PgmuxConfigYaml.render(upstream, 1, ports, tenantSettings));
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(recommendedJavaOptions());
            command.addAll(javaOptions);
            command.addAll(List.of("-jar", jar.toString(), "check", "--config", config.toString()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            LIVE.add(process);
            try {
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new IOException("pgmux check did not finish within " + STOP_TIMEOUT.toSeconds() + " s");
                }
                return process.exitValue() == 1 ? Optional.of(output.strip().replace(config.toString(), name)) : Optional.empty();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while pgmux checked its configuration", e);
            } finally {
                LIVE.remove(process);
            }
        } finally {
            Files.deleteIfExists(config);
        }
    }

    /**
     * The pgmux jar: {@code explicit} if given; else {@code proxy/target/pgmux.jar} under the working
     * directory; else the same path beside the build this code was loaded from
     * ({@code loadtest/target/pgmux-loadtest.jar} → {@code ../../proxy/target/pgmux.jar}).
     */
    public static Path findJar(String explicit) {
        if (explicit != null) {
            return Path.of(explicit).toAbsolutePath().normalize();
        }
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of("proxy", "target", "pgmux.jar").toAbsolutePath());
        codeLocation().ifPresent(location -> {
            for (Path p = location.getParent(); p != null; p = p.getParent()) {
                candidates.add(p.resolve("proxy").resolve("target").resolve("pgmux.jar"));
                if (candidates.size() > 6) {
                    break;
                }
            }
        });
        return candidates.stream().filter(Files::isRegularFile).findFirst().map(Path::normalize)
                .orElseThrow(() -> new IllegalArgumentException("pgmux jar not found at " + candidates.get(0)
                        + " or beside this build; build it (mvn -DskipTests package) or give --pgmux-jar FILE"));
    }

    private static Optional<Path> codeLocation() {
        try {
            return Optional.of(Path.of(PgmuxLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The JVM options pgmux is run with by its own scripts (scripts/jdk.sh) on the JVM this tool runs on,
     * so that a sweep measures pgmux as it is deployed: the heap options (G1, a periodic concurrent cycle,
     * 10-30% free), Netty's use of {@code sun.misc.Unsafe} allowed from JDK 24 on, compact object headers
     * from JDK 25 on. Options given with the target come after these, so they win.
     */
    static List<String> recommendedJavaOptions() {
        int feature = Runtime.version().feature();
        List<String> options = new ArrayList<>(List.of("-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=30000",
                "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30"));
        if (feature >= 24) {
            options.add("--sun-misc-unsafe-memory-access=allow");
        }
        if (feature >= 25) {
            options.add("-XX:+UseCompactObjectHeaders");
        }
        return List.copyOf(options);
    }

    /** Starts pgmux in front of {@code upstream} with {@code poolSize}; its output goes to {@code log}. */
    public RunningPgmux start(Target upstream, int poolSize, Path log) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            PgmuxConfigYaml.Ports ports = new PgmuxConfigYaml.Ports(freePort(), freePort(), freePort());
            Path config = Files.createTempFile("pgmux-loadtest-", ".yaml", OWNER_ONLY);
            Files.writeString(config, PgmuxConfigYaml.render(upstream, poolSize, ports, tenantSettings));
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(recommendedJavaOptions());
            command.addAll(javaOptions);
            command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
            Files.createDirectories(log.toAbsolutePath().getParent());
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            LIVE.add(process);
            Instant startedAt = process.info().startInstant().orElseGet(Instant::now);
            RunningPgmux running = new RunningPgmux(process, startedAt, ports, config, log);
            try {
                awaitReady(running);
                return running;
            } catch (IOException e) {
                running.close();
                last = e;
                if (!e.getMessage().contains("in use")) {
                    throw e;
                }
            }
        }
        throw last;
    }

    /**
     * Rewrites the configuration file {@code pgmux} was started with for {@code poolSize} (same ports and
     * settings), in one step: the new file is written beside it and moved over it, so a reload never reads half
     * a file. pgmux applies it on its next reload ({@code POST /reload}).
     */
    public void rewrite(RunningPgmux pgmux, Target upstream, int poolSize) throws IOException {
        String yaml = PgmuxConfigYaml.render(upstream, poolSize, pgmux.ports(), tenantSettings);
        Path next = Files.createTempFile(pgmux.config().toAbsolutePath().getParent(), "pgmux-loadtest-", ".yaml.next", OWNER_ONLY);
        try {
            Files.writeString(next, yaml);
            Files.move(next, pgmux.config(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(next);
        }
    }

    private static void awaitReady(RunningPgmux pgmux) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pgmux.ports().admin() + "/ready"))
                .timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!pgmux.process().isAlive()) {
                throw new IOException("pgmux exited with status " + pgmux.process().exitValue() + " before it was ready:\n"
                        + pgmux.logTail());
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for pgmux", e);
            }
            try {
                Thread.sleep(50); // polling the readiness endpoint: pgmux has no other way to say it is up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for pgmux", e);
            }
        }
        throw new IOException("pgmux was not ready within " + READY_TIMEOUT.toSeconds() + " s:\n" + pgmux.logTail());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /**
     * A started pgmux; {@link #close()} stops it (SIGTERM, then SIGKILL after 10 s) and deletes its configuration.
     *
     * @param startedAt when the operating system started the process
     * @param config    the file it was started with, and re-reads on a reload
     */
    public record RunningPgmux(Process process, Instant startedAt, PgmuxConfigYaml.Ports ports, Path config, Path log)
            implements AutoCloseable {

        /**
         * The client's view: the same user, password, database and connection properties as the upstream URL,
         * pgmux's port for the mode; TLS settings are dropped, as this pgmux has TLS disabled.
         */
        public Target target(Target upstream, boolean transactionMode) {
            Map<String, String> props = new java.util.LinkedHashMap<>(upstream.properties());
            props.keySet().removeIf(k -> k.startsWith("ssl"));
            return new Target("127.0.0.1", transactionMode ? ports.transaction() : ports.session(), upstream.database(),
                    PgmuxConfigYaml.clientUser(upstream.user()), upstream.password(), props);
        }

        public long pid() {
            return process.pid();
        }

        @Override
        public void close() {
            try {
                process.destroy();
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            } finally {
                LIVE.remove(process);
                try {
                    Files.deleteIfExists(config);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }

        String logTail() {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
            } catch (IOException | UncheckedIOException e) {
                return "(cannot read " + log + ": " + e.getMessage() + ")";
            }
        }
    }
}
