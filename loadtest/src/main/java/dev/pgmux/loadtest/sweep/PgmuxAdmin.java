package dev.pgmux.loadtest.sweep;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of pgmux's admin HTTP port a sweep uses (docs/configuration.md, "Reload"): {@code POST /reload},
 * the pools of {@code GET /pools} and the client connections of {@code GET /metrics}.
 */
final class PgmuxAdmin {
    static final String CLIENT_CONNECTIONS = "pgmux_client_connections";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern FIELD = Pattern.compile("\\b([a-z]+)=(\\d+)");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final URI base;

    PgmuxAdmin(int adminPort) {
        this.base = URI.create("http://127.0.0.1:" + adminPort);
    }

    /** An HTTP answer: its status and text. */
    record Answer(int status, String body) {
    }

    /** {@code POST /reload}: pgmux re-reads the file it was started with (200 and what changed, or 422 and every problem). */
    Answer reload() throws IOException {
        return send(HttpRequest.newBuilder(base.resolve("/reload")).timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    /** Every pool pgmux has now, as {@code GET /pools} shows it. */
    List<PoolStatus> pools() throws IOException {
        return PoolStatus.parse(get("/pools"));
    }

    /** Client connections open in pgmux, every port and state, from {@code GET /metrics}. */
    long clientConnections() throws IOException {
        return sum(get("/metrics"), CLIENT_CONNECTIONS);
    }

    private String get(String path) throws IOException {
        Answer a = send(HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).GET().build());
        if (a.status() != 200) {
            throw new IOException("pgmux's admin port answered GET " + path + " with HTTP " + a.status() + ": "
                    + a.body().strip());
        }
        return a.body();
    }

    private Answer send(HttpRequest request) throws IOException {
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while talking to pgmux's admin port", e);
        }
    }

    /**
     * The sum of every series of {@code metric} in a Prometheus text exposition
     * ({@code name{labels} value} per line); a metric that is missing is an error, not zero.
     */
    static long sum(String exposition, String metric) throws IOException {
        double total = 0;
        boolean seen = false;
        for (String line : exposition.split("\n")) {
            if (line.startsWith(metric + "{") || line.startsWith(metric + " ")) {
                String[] parts = line.strip().split("\\s+");
                try {
                    total += Double.parseDouble(parts[parts.length - 1]);
                } catch (NumberFormatException e) {
                    throw new IOException("cannot read pgmux's /metrics line: " + line, e);
                }
                seen = true;
            }
        }
        if (!seen) {
            throw new IOException("pgmux's /metrics has no " + metric);
        }
        return Math.round(total);
    }

    /**
     * One line of {@code /pools}: {@code tenant/database/user [retired] size=N open=N connecting=N idle=N
     * active=N waiting=N ...}; {@code open} counts every server not yet closed (connecting, closing too).
     */
    record PoolStatus(String key, boolean retired, int size, int open, int active, int waiting, String line) {

        static List<PoolStatus> parse(String text) throws IOException {
            List<PoolStatus> pools = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] words = line.strip().split("\\s+");
                Map<String, Integer> fields = new HashMap<>();
                Matcher m = FIELD.matcher(line);
                while (m.find()) {
                    fields.put(m.group(1), Integer.parseInt(m.group(2)));
                }
                for (String required : List.of("size", "open", "active", "waiting")) {
                    if (!fields.containsKey(required)) {
                        throw new IOException("cannot read pgmux's /pools line (no " + required + "=): " + line);
                    }
                }
                pools.add(new PoolStatus(words[0], words.length > 1 && words[1].equals("retired"), fields.get("size"),
                        fields.get("open"), fields.get("active"), fields.get("waiting"), line.strip()));
            }
            return pools;
        }

        String tenant() {
            int slash = key.indexOf('/');
            return slash < 0 ? key : key.substring(0, slash);
        }
    }
}
