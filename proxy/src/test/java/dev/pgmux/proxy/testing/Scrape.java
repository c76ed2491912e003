package dev.pgmux.proxy.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One read of pgmux's {@code /metrics} in the Prometheus text format, parsed into samples: what tests assert
 * on, as Prometheus would read it.
 */
public final class Scrape {
    /** One line: a metric name, its labels, its value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private final String body;
    private final List<Sample> samples;

    private Scrape(String body) {
        this.body = body;
        this.samples = parse(body);
    }

    /** GETs {@code /metrics} on pgmux's admin port; fails unless it answers 200. */
    public static Scrape of(PgmuxHarness pgmux) {
        HttpResponse<String> response = get(pgmux, null, null);
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + response.statusCode() + ": " + response.body());
        }
        return new Scrape(response.body());
    }

    /** A GET of {@code /metrics} with an optional Authorization and Accept header. */
    public static HttpResponse<String> get(PgmuxHarness pgmux, String authorization, String accept) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + pgmux.server().adminPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (accept != null) {
            request.header("Accept", accept);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("GET /metrics failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public String body() {
        return body;
    }

    public List<Sample> samples() {
        return samples;
    }

    /**
     * The sum of the samples named {@code name} whose labels include {@code labels} (name, value, name,
     * value, ...); 0 when none matches.
     */
    public double sum(String name, String... labels) {
        double total = 0;
        for (Sample sample : samples) {
            if (sample.name().equals(name) && matches(sample.labels(), labels)) {
                total += sample.value();
            }
        }
        return total;
    }

    /** Whether any sample has this name. */
    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    private static boolean matches(Map<String, String> have, String[] want) {
        for (int i = 0; i < want.length; i += 2) {
            if (!want[i + 1].equals(have.get(want[i]))) {
                return false;
            }
        }
        return true;
    }

    private static List<Sample> parse(String body) {
        List<Sample> samples = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                int close = line.lastIndexOf('}');
                parseLabels(line.substring(brace + 1, close), labels);
                space = line.indexOf(' ', close);
            } else {
                name = line.substring(0, line.indexOf(' '));
                space = line.indexOf(' ');
            }
            String[] rest = line.substring(space + 1).trim().split(" ");
            samples.add(new Sample(name, labels, Double.parseDouble(rest[0])));
        }
        return samples;
    }

    private static void parseLabels(String text, Map<String, String> labels) {
        int i = 0;
        while (i < text.length()) {
            int eq = text.indexOf('=', i);
            String key = text.substring(i, eq).trim();
            StringBuilder value = new StringBuilder();
            int j = eq + 2; // past ="
            while (text.charAt(j) != '"') {
                char c = text.charAt(j);
                if (c == '\\') {
                    j++;
                    c = text.charAt(j) == 'n' ? '\n' : text.charAt(j);
                }
                value.append(c);
                j++;
            }
            labels.put(key, value.toString());
            i = j + 1;
            if (i < text.length() && text.charAt(i) == ',') {
                i++;
            }
        }
    }
}
