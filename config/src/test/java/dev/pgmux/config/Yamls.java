package dev.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

/** Small valid documents to vary in tests. */
final class Yamls {

    /** One tenant with only its required keys. */
    static final String MINIMAL = """
            tenants:
              - id: a
                upstream:
                  host: db
                users:
                  - name: app
                    password: pw
            """;

    private Yamls() {
    }

    /** {@link #MINIMAL} with more keys in its tenant, e.g. {@code "pool_size: 0"}. */
    static String tenantWith(String... lines) {
        StringBuilder sb = new StringBuilder(MINIMAL);
        for (String line : lines) {
            sb.append("    ").append(line).append('\n');
        }
        return sb.toString();
    }

    /** {@link #MINIMAL} with more top-level sections before it. */
    static String topWith(String... sections) {
        return String.join("\n", sections) + "\n" + MINIMAL;
    }

    static PgmuxConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, Map.of());
    }

    static List<String> problems(String yaml) {
        return problems(yaml, Map.of());
    }

    static List<String> problems(String yaml, Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, env)).problems();
    }
}
