package dev.pgmux.proxy.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy (Debian's {@code haproxy} package; {@code .ci/run} installs it) in TCP mode in front of pgmux, one
 * frontend per {@link Route}, each on a free port of 127.0.0.1 and relaying to one pgmux port with the PROXY
 * protocol header the route names. Started in the foreground as a child of the test and stopped by its pid.
 * A machine without HAProxy fails the test that needs it, saying how to install it.
 */
public final class TestHaproxy implements AutoCloseable {

    /** How a route's backend connection tells pgmux who the client is. */
    public enum Header {
        NONE(""), V1(" send-proxy"), V2(" send-proxy-v2");

        private final String serverOption;

        Header(String serverOption) {
            this.serverOption = serverOption;
        }
    }

    /**
     * A frontend relaying to {@code targetPort}, with {@code header}; {@code source}, when not null, is the local
     * address HAProxy's connection to pgmux comes from (pgmux sees it as the peer).
     */
    public record Route(String name, int targetPort, Header header, String source) {
        public static Route of(String name, int targetPort, Header header) {
            return new Route(name, targetPort, header, null);
        }
    }

    private final Process process;
    private final Path directory;
    private final Map<String, Integer> ports;

    private TestHaproxy(Process process, Path directory, Map<String, Integer> ports) {
        this.process = process;
        this.directory = directory;
        this.ports = ports;
    }

    public static TestHaproxy start(Route... routes) throws IOException {
        Map<String, Integer> ports = new LinkedHashMap<>();
        StringBuilder config = new StringBuilder("""
                global
                  maxconn 2000
                defaults
                  mode tcp
                  timeout connect 5s
                  timeout client 120s
                  timeout server 120s
                """);
        for (Route route : routes) {
            int port = freePort();
            ports.put(route.name(), port);
            config.append("frontend f_").append(route.name()).append('\n')
                    .append("  bind 127.0.0.1:").append(port).append('\n')
                    .append("  default_backend b_").append(route.name()).append('\n')
                    .append("backend b_").append(route.name()).append('\n')
                    .append("  server pgmux 127.0.0.1:").append(route.targetPort()).append(route.header().serverOption)
                    .append(route.source() == null ? "" : " source " + route.source()).append('\n');
        }
        Path directory = Files.createTempDirectory("pgmux-haproxy");
        Path file = directory.resolve("haproxy.cfg");
        Files.writeString(file, config.toString(), StandardCharsets.UTF_8);
        Process process;
        try {
            process = new ProcessBuilder("haproxy", "-db", "-f", file.toString())
                    .redirectErrorStream(true).redirectOutput(directory.resolve("haproxy.log").toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("HAProxy is needed (Debian package haproxy; .ci/run installs it)", e);
        }
        TestHaproxy haproxy = new TestHaproxy(process, directory, ports);
        try {
            // Read from the kernel's socket table: a probe connection would make HAProxy open one to pgmux.
            Wait.until("HAProxy listening on " + ports.values(), Duration.ofSeconds(15), () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("HAProxy exited: " + haproxy.log());
                }
                return listening().containsAll(ports.values());
            });
        } catch (RuntimeException | Error e) {
            haproxy.close();
            throw e;
        }
        return haproxy;
    }

    /** The port of the frontend of route {@code name}. */
    public int port(String name) {
        Integer port = ports.get(name);
        if (port == null) {
            throw new IllegalArgumentException("no route " + name + " (" + ports.keySet() + ")");
        }
        return port;
    }

    public String log() {
        try {
            return Files.readString(directory.resolve("haproxy.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** The local ports of the IPv4 sockets in state LISTEN, from /proc/net/tcp. */
    private static java.util.Set<Integer> listening() throws IOException {
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length > 3 && "0A".equals(fields[3]) && fields[1].contains(":")) {
                ports.add(Integer.parseInt(fields[1].substring(fields[1].indexOf(':') + 1), 16));
            }
        }
        return ports;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.list(directory)) {
            List<Path> all = new ArrayList<>(files.toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(directory);
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
