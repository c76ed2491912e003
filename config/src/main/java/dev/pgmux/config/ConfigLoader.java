package dev.pgmux.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Reads a pgmux configuration from YAML: parse, substitute {@code ${VAR}}s, check, and build a
 * {@link PgmuxConfig}. Every problem found is reported at once in one {@link ConfigException}.
 */
public final class ConfigLoader {

    private static final List<String> LIMIT_MESSAGES = List.of(
            "The incoming YAML document exceeds the limit", "Number of aliases", "Nesting Depth");

    private ConfigLoader() {
    }

    /** Loads a file, substituting variables from the process environment. */
    public static PgmuxConfig load(Path file) {
        return load(file, System.getenv());
    }

    public static PgmuxConfig load(Path file, Map<String, String> env) {
        return parse(read(file), env, "invalid configuration in " + file);
    }

    /** Parses YAML text, substituting variables from {@code env}. */
    public static PgmuxConfig parse(String yaml, Map<String, String> env) {
        return parse(yaml, env, "invalid configuration");
    }

    private static PgmuxConfig parse(String yaml, Map<String, String> env, String summary) {
        Object document = yamlTree(yaml, summary);
        Problems problems = new Problems();
        if (document == null) {
            problems.add("", "the configuration is empty (at least one tenant is required)");
            problems.throwIfAny(summary);
        }
        ConfigTreeReader.Parts parts = ConfigTreeReader.read(MappingReader.root(document, problems, env));
        ConfigValidator.validate(parts.listen(), parts.tls(), parts.limits(), parts.defaultTenant(), parts.tenants(),
                parts.admin(), problems);
        ConfigValidator.validate(parts.cluster(), parts.tenants(), problems);
        ConfigValidator.validateApi(parts.admin(), parts.cluster(), problems);
        ConsoleValidator.validate(parts.console(), parts.tenants(), problems);
        LogConfig.validate(parts.log(), problems);
        problems.sortBySection(ConfigTreeReader.TOP_KEYS);
        problems.throwIfAny(summary);
        // Valid by now; the constructor checks the same rules again, as it does for configs built in code.
        return new PgmuxConfig(parts.listen(), parts.tls(), parts.limits(), parts.defaultTenant(), parts.tenants(),
                parts.admin(), parts.console(), parts.log(), parts.cluster());
    }

    /**
     * One tenant as the metadata database keeps it: a JSON object with the keys of a tenant in the file
     * ({@code id}, {@code upstream}, {@code users}, ...), checked by the same rules. No {@code ${VAR}} is
     * substituted: a tenant written through the API must not read pgmux's environment.
     *
     * @throws ConfigException naming each problem as {@code tenants[ID].key}
     */
    public static TenantConfig tenant(String id, String json, TlsConfig tls) {
        String summary = "invalid tenant \"" + id + "\" in the metadata database";
        Object document = yamlTree(json, summary);
        Problems problems = new Problems();
        java.util.List<TenantConfig> tenants = ConfigTreeReader.tenantsOnly(MappingReader.root(
                Map.of("tenants", java.util.List.of(document == null ? Map.of() : document)), problems, null));
        if (tenants.size() == 1) {
            if (!tenants.get(0).id().equals(id)) {
                problems.add("tenants[0].id", "must be the row's id \"" + id + "\", got \"" + tenants.get(0).id() + "\"");
            } else {
                ConfigValidator.validateTenant(tenants.get(0), tls, problems);
            }
        }
        if (!problems.isEmpty()) { // named by the row's id, as the file's tenants are by their index
            throw new ConfigException(summary, problems.lines().stream()
                    .map(problem -> problem.replace("tenants[0]", "tenants[" + id + "]")).toList());
        }
        return tenants.get(0);
    }

    /**
     * What is wrong with a tenant id, by the rules of the tenants section (letters, digits, _ and -), or empty
     * when it is a valid one: the tenant API checks the id of its path with it.
     */
    public static java.util.Optional<String> tenantIdProblem(String id) {
        return ConfigValidator.tenantIdProblem(id);
    }

    /** Plain maps, lists and scalars: no custom tags, no duplicate keys, no YAML 1.1 surprises. */
    private static Object yamlTree(String yaml, String summary) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        Yaml parser = new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()),
                new DumperOptions(), options, new StrictResolver());
        String text = yaml.startsWith("\uFEFF") ? yaml.substring(1) : yaml;
        try {
            return parser.load(text);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(summary, List.of(syntaxProblem(e)));
        } catch (YAMLException e) {
            throw new ConfigException(summary, List.of(unmarkedProblem(e.getMessage())));
        } catch (RuntimeException e) {
            throw new ConfigException(summary, List.of(unmarkedProblem(null)));
        }
    }

    /**
     * Built from the parts of SnakeYAML's report, never from its message: that quotes the
     * offending line, which may hold a password.
     */
    private static String syntaxProblem(MarkedYAMLException e) {
        StringBuilder sb = new StringBuilder();
        sb.append(position(e.getProblemMark())).append(": ");
        sb.append(e.getProblem() == null ? "not valid YAML" : e.getProblem());
        if (e.getContext() != null) {
            sb.append(" (").append(e.getContext());
            if (e.getContextMark() != null) {
                sb.append(" at ").append(position(e.getContextMark()));
            }
            sb.append(')');
        }
        return sb.toString();
    }

    /**
     * SnakeYAML's unmarked errors are its size limits, which are safe to show, and failures to
     * convert a value with an explicit tag (such as {@code !!int abc}), which quote the value.
     */
    private static String unmarkedProblem(String message) {
        for (String limit : LIMIT_MESSAGES) {
            if (message != null && message.startsWith(limit)) {
                return "not valid YAML: " + message;
            }
        }
        return "not valid YAML: a value does not match its explicit tag (pgmux needs no tags such as !!int)";
    }

    private static String position(Mark mark) {
        return mark == null ? "YAML" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw unreadable(file, "file not found");
        } catch (AccessDeniedException e) {
            throw unreadable(file, "permission denied");
        } catch (CharacterCodingException e) {
            throw unreadable(file, "not valid UTF-8");
        } catch (IOException e) {
            throw unreadable(file, "cannot be read (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    private static ConfigException unreadable(Path file, String problem) {
        return new ConfigException("cannot read the configuration", List.of(file + ": " + problem));
    }
}
