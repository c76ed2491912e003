package dev.pgmux.proxy.log;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.LogFormat;
import dev.pgmux.config.LogLevel;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code log.format: json} writes one JSON object per line (logback's JSON encoder) with each line's fields;
 * a reload switches to text and back, and {@code log.level} with it.
 */
@Timeout(120)
class LogFormatTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonLinesCarryEveryFieldAndAReloadSwitchesTheFormat() throws Exception {
        LogConfig json = LogConfig.defaults().withLogConnections(true).withLogDisconnections(true).withFormat(LogFormat.JSON).withStatsPeriod(Duration.ofSeconds(1));
        PgmuxConfig config = PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant()).withLog(json);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PgmuxHarness pgmux = PgmuxHarness.start(config); LogOutput output = LogOutput.to(out, "pgmux")) {
            pgmux.server().logOutput(output);
            assertThat(output.format()).isEqualTo(LogFormat.JSON);
            try (Connection c = Port.TRANSACTION.connect(pgmux, ROLE)) {
                Wait.until("a statistics line", () -> {
                    text(c, "SELECT 1");
                    return lines(out).stream().anyMatch(l -> l.contains("\"pgmux.stats\""));
                }, () -> written(out));
            }
            Wait.until("the disconnect line", () -> written(out).contains("\"disconnect\""), () -> written(out));

            List<JsonNode> lines = new ArrayList<>();
            for (String line : lines(out)) {
                lines.add(JSON.readTree(line)); // every line is one JSON object
            }
            JsonNode login = find(lines, "login");
            assertThat(login.get("level").asText()).isEqualTo("INFO");
            assertThat(login.get("loggerName").asText()).isEqualTo("pgmux.connections");
            assertThat(login.get("timestamp").isNumber()).isTrue();
            assertThat(login.get("formattedMessage").asText()).startsWith("client ").contains(" login: user=" + ROLE.name());
            Map<String, String> fields = fields(login);
            assertThat(fields).containsEntry("user", ROLE.name()).containsEntry("tenant", "acme")
                    .containsEntry("database", "postgres").containsEntry("mode", "transaction").containsEntry("tls", "no")
                    .containsKeys("client", "address");
            Map<String, String> end = fields(find(lines, "disconnect"));
            assertThat(end).containsEntry("client", fields.get("client")).containsEntry("reason", "client closed")
                    .containsEntry("end", "client_closed").containsKey("duration_ms");
            Map<String, String> stats = fields(find(lines, "stats"));
            assertThat(stats).containsEntry("user", ROLE.name()).containsKeys("xacts_per_s", "queries_per_s",
                    "bytes_in_per_s", "bytes_out_per_s", "xact_us", "query_us", "wait_us");

            // Text again, on reload: the lines that follow are the pattern's.
            pgmux.server().reload(config.withLog(json.withFormat(LogFormat.TEXT).withStatsPeriod(Duration.ZERO)));
            assertThat(output.format()).isEqualTo(LogFormat.TEXT);
            out.reset();
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                text(c, "SELECT 1");
            }
            Wait.until("the disconnect line", () -> written(out).contains(" disconnect: "), () -> written(out));
            assertThat(lines(out)).allMatch(line -> line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  "
                    + "(connections - client \\d+ (login|disconnect): user=.*|stats - pool .*)"), written(out));

            // log.level: warn keeps the INFO lines out.
            pgmux.server().reload(config.withLog(json.withFormat(LogFormat.TEXT).withLevel(LogLevel.WARN)
                    .withStatsPeriod(Duration.ZERO)));
            out.reset();
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                text(c, "SELECT 1");
            }
            Wait.until("pgmux is done with the client", () -> pgmux.tenant().clients() == 0);
            pgmux.server().reload(config.withLog(json.withFormat(LogFormat.TEXT).withStatsPeriod(Duration.ZERO)));
            try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
                text(c, "SELECT 'marker'");
            }
            Wait.until("the marker client's lines", () -> lines(out).size() >= 2, () -> written(out));
            assertThat(lines(out)).as("only the lines after the level went back to the default").hasSize(2);
        }
    }

    private static String written(ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8);
    }

    private static List<String> lines(ByteArrayOutputStream out) {
        return written(out).lines().filter(line -> !line.isBlank()).toList();
    }

    private static JsonNode find(List<JsonNode> lines, String event) {
        return lines.stream().filter(l -> event.equals(fields(l).get("event"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + event + " line in " + lines));
    }

    /** The encoder writes the key-value pairs as a list of one-entry objects. */
    private static Map<String, String> fields(JsonNode line) {
        Map<String, String> fields = new LinkedHashMap<>();
        JsonNode pairs = line.get("kvpList");
        if (pairs != null) {
            pairs.forEach(pair -> pair.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().asText())));
        }
        return fields;
    }
}
