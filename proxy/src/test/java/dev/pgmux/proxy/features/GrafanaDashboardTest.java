package dev.pgmux.proxy.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.Scrape;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana dashboard in {@code examples/grafana-dashboard.json}: it is JSON (no key twice), imports with a
 * Prometheus data source chosen at import, and every metric its queries name is one pgmux serves, found in a
 * scrape of a pgmux that has had the traffic each panel shows (both ports, an error, named statements, a failed
 * login, a server closed).
 */
@Timeout(120)
class GrafanaDashboardTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    private static final Path DASHBOARD = Path.of("examples", "grafana-dashboard.json");

    @Test
    void everyMetricTheDashboardQueriesIsServed() throws Exception {
        Map<String, Object> dashboard = load();
        assertThat(dashboard.get("schemaVersion")).isInstanceOf(Integer.class);
        assertThat((Integer) dashboard.get("schemaVersion")).isGreaterThanOrEqualTo(36);
        assertThat(list(dashboard.get("__inputs"))).extracting(i -> object(i).get("name")).contains("DS_PROMETHEUS");

        List<String> queries = queries(dashboard);
        assertThat(queries).as("the dashboard's queries").hasSizeGreaterThan(20);
        Set<String> names = new TreeSet<>();
        queries.forEach(q -> names.addAll(metricNames(q)));
        assertThat(names).as("metric names found in the queries").contains("pgmux_pool_clients",
                "pgmux_checkout_wait_seconds_bucket", "jvm_memory_used_bytes");

        try (PgmuxHarness pgmux = PgmuxHarness.start()) {
            traffic(pgmux);
            Wait.until("the server left dirty counted as closed",
                    () -> Scrape.of(pgmux).sum("pgmux_server_closes_total", "reason", "client_left_dirty") >= 1);
            Scrape scrape = Scrape.of(pgmux);
            List<String> missing = names.stream().filter(name -> !scrape.has(name)).toList();
            assertThat(missing).as("metrics the dashboard queries that pgmux does not serve").isEmpty();
        }
    }

    @Test
    void metricNamesAreTakenFromPromQlWithoutFunctionsLabelsOrKeywords() {
        assertThat(metricNames("histogram_quantile(0.99, sum by (le, tenant, mode) "
                + "(rate(pgmux_query_duration_seconds_bucket{instance=~\"$instance\", state!=\"x y\"}[$__rate_interval])))"))
                .containsExactly("pgmux_query_duration_seconds_bucket");
        assertThat(metricNames("sum(rate(a_total{x=\"1\"}[5m])) or vector(0) + on (job) group_left (le) b_bytes offset 1m"))
                .containsExactlyInAnyOrder("a_total", "b_bytes");
        assertThat(metricNames("label_values(pgmux_pool_size_limit{tenant=~\"$tenant\"}, database)"))
                .containsExactly("pgmux_pool_size_limit");
        assertThat(metricNames("1e3 * max without (loop) (pgmux_netty_eventloop_pending_tasks) > bool 2"))
                .containsExactly("pgmux_netty_eventloop_pending_tasks");
    }

    /** What each panel shows, made to happen: pools on both ports, named statements, an error, a failed login. */
    private static void traffic(PgmuxHarness pgmux) throws SQLException {
        Properties eager = new Properties();
        eager.setProperty("prepareThreshold", "1");
        for (Port port : Port.values()) {
            try (Connection c = port.connect(pgmux, ROLE, eager); Statement s = c.createStatement();
                 PreparedStatement p = c.prepareStatement("SELECT ?::int + 1")) {
                for (int i = 0; i < 3; i++) {
                    p.setInt(1, i);
                    try (ResultSet r = p.executeQuery()) {
                        assertThat(r.next()).isTrue();
                    }
                }
                catchThrowableOfType(SQLException.class, () -> s.execute("SELECT 1/0"));
            }
            Properties wrong = new Properties();
            wrong.setProperty("user", PgmuxHarness.tenantUser(ROLE));
            wrong.setProperty("password", "not the password");
            catchThrowableOfType(SQLException.class,
                    () -> DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), wrong).close());
        }
        // A session client that leaves inside a transaction: its server is closed, not reused.
        try (Connection c = Port.SESSION.connect(pgmux, ROLE)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT 1");
            }
        }
    }

    /** Every query: the panels' (rows' panels included) and the variables' selectors. */
    private static List<String> queries(Map<String, Object> dashboard) {
        List<String> queries = new ArrayList<>();
        collect(list(dashboard.get("panels")), queries);
        for (Object variable : list(object(dashboard.get("templating")).get("list"))) {
            queries.add((String) object(variable).get("definition"));
        }
        return queries;
    }

    private static void collect(List<?> panels, List<String> queries) {
        for (Object item : panels) {
            Map<String, Object> panel = object(item);
            if (!"row".equals(panel.get("type"))) {
                assertThat(object(panel.get("datasource")).get("uid")).as("data source of %s", panel.get("title"))
                        .isEqualTo("${DS_PROMETHEUS}");
            }
            for (Object target : list(panel.getOrDefault("targets", List.of()))) {
                queries.add((String) object(target).get("expr"));
            }
            collect(list(panel.getOrDefault("panels", List.of())), queries);
        }
    }

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
    private static final Pattern LABEL_LIST = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![A-Za-z0-9_.:$])([A-Za-z_:][A-Za-z0-9_:]*)\\s*(\\(?)");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan",
            "by", "without", "on", "ignoring", "group_left", "group_right", "atan2");

    /**
     * The metric names of a PromQL expression (or of a Grafana {@code label_values(selector, label)}): what is
     * left of its identifiers once strings, label matchers, ranges and grouping lists are gone, less the
     * functions (followed by a parenthesis) and keywords.
     */
    static Set<String> metricNames(String expr) {
        String text = expr;
        if (text.startsWith("label_values(")) {
            text = text.substring("label_values(".length(), text.lastIndexOf(','));
        }
        text = STRING.matcher(text).replaceAll("\"\"");
        text = MATCHERS.matcher(text).replaceAll(" ");
        text = RANGE.matcher(text).replaceAll(" ");
        text = LABEL_LIST.matcher(text).replaceAll(" ");
        text = text.replaceAll("offset\\s+-?[0-9a-z]+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(text);
        while (m.find()) {
            String word = m.group(1);
            if (m.group(2).isEmpty() && !KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                names.add(word);
            }
        }
        return names;
    }

    private static Map<String, Object> load() throws IOException {
        Path file = locate();
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        Object parsed = new Yaml(new SafeConstructor(options)).load(Files.readString(file)); // JSON is YAML
        return object(parsed);
    }

    /** The file in the repository's examples/, from the module's directory (Maven's working directory) up. */
    private static Path locate() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(DASHBOARD))) {
                return dir.resolve(DASHBOARD);
            }
        }
        throw new AssertionError(DASHBOARD + " not found above " + Path.of("").toAbsolutePath());
    }

    private static List<?> list(Object value) {
        assertThat(value).isInstanceOf(List.class);
        return (List<?>) value;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }
}
