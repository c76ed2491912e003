package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.Target;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One column of a sweep. Only pgmux targets are measured at every pool size (pgmux is started with each);
 * the others are measured once and drawn as flat reference lines.
 */
public sealed interface SweepTarget {

    String label();

    /** Postgres itself, at the sweep's upstream URL. */
    record Direct() implements SweepTarget {
        @Override
        public String label() {
            return "direct";
        }
    }

    /**
     * pgmux, started by the sweep with each pool size, through its session or transaction port.
     *
     * @param label    {@code pgmux-session}, {@code pgmux-transaction}, or the name given in {@code NAME=KIND:...}
     * @param settings tenant settings of this target's own, written into the tenant of its pgmux's configuration
     *                 (after those of {@code --pgmux-set}, which they override); a target with settings of its own
     *                 is served by a pgmux process of its own
     */
    record Pgmux(String label, boolean transactionMode, Map<String, String> settings) implements SweepTarget {
        public Pgmux {
            Objects.requireNonNull(label, "label");
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        }

        /** {@code pgmux-session} or {@code pgmux-transaction}, with no settings of its own. */
        public Pgmux(boolean transactionMode) {
            this(transactionMode ? "pgmux-transaction" : "pgmux-session", transactionMode, Map.of());
        }

        /** {@code pgmux-transaction}, or {@code pgmux-transaction with cache_unnamed_statements=false}. */
        public String describe() {
            String kind = transactionMode ? "pgmux-transaction" : "pgmux-session";
            return settings.isEmpty() ? kind : kind + " with " + settingsText();
        }

        /** {@code key=value; key=value}, in the order given. */
        public String settingsText() {
            return String.join("; ", settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        }
    }

    /** Any other server: a pooler already running (PgBouncer, Supavisor, a pgmux of your own). */
    record Url(String label, String url) implements SweepTarget {
        @Override
        public String toString() {
            return "Url[" + label + ", " + Target.redact(url) + "]";
        }
    }

    Pattern NAMED = Pattern.compile("([A-Za-z0-9_.-]+)=(url:.+|(?:pgmux-session|pgmux-transaction|session|transaction)(?::.*)?)");
    Pattern SETTING_KEY = Pattern.compile("[a-z][a-z0-9_]*");
    /** What the sweep writes itself into the tenant it generates. */
    Set<String> SWEEP_KEYS = Set.of("id", "upstream", "users", "pool_size");

    /**
     * {@code direct}, {@code pgmux-session}, {@code pgmux-transaction}, {@code url:URL}, {@code NAME=url:URL}, or
     * {@code NAME=pgmux-session|pgmux-transaction[:KEY=VALUE[;KEY=VALUE...]]}: a pgmux target of that name whose
     * tenant gets those settings.
     */
    static SweepTarget parse(String token) {
        String t = token.strip();
        Matcher named = NAMED.matcher(t);
        if (named.matches()) {
            String name = named.group(1);
            String rest = named.group(2);
            if (rest.startsWith("url:")) {
                return new Url(name, rest.substring(4));
            }
            int colon = rest.indexOf(':');
            String kind = colon < 0 ? rest : rest.substring(0, colon);
            return new Pgmux(name, kind.endsWith("transaction"), colon < 0 ? Map.of() : settings(name, rest.substring(colon + 1)));
        }
        return switch (t) {
            case "direct" -> new Direct();
            case "pgmux-session", "session" -> new Pgmux(false);
            case "pgmux-transaction", "transaction" -> new Pgmux(true);
            default -> {
                if (t.startsWith("url:")) {
                    String url = t.substring(4);
                    Target parsed = Target.parse(url, "-", null);
                    yield new Url(parsed.host() + ":" + parsed.port(), url);
                }
                if (t.matches("(pgmux-session|pgmux-transaction|session|transaction):.*")) {
                    throw new IllegalArgumentException("target \"" + t + "\" has settings of its own: give it a name for the"
                            + " reports, as NAME=" + t);
                }
                throw new IllegalArgumentException("unknown target \"" + t + "\": use direct, pgmux-session, pgmux-transaction,"
                        + " url:URL, NAME=url:URL or NAME=pgmux-session|pgmux-transaction:KEY=VALUE[;KEY=VALUE]");
            }
        };
    }

    /** {@code KEY=VALUE[;KEY=VALUE...]} of target {@code name}; values are YAML scalars, written as strings. */
    private static Map<String, String> settings(String name, String text) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String pair : text.split(";")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair.strip() : pair.substring(0, eq).strip();
            if (eq < 0 || !SETTING_KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("target " + name + ": \"" + pair.strip() + "\" is not KEY=VALUE with a tenant"
                        + " setting's key (see docs/configuration.md)");
            }
            if (SWEEP_KEYS.contains(key)) {
                throw new IllegalArgumentException("target " + name + ": " + key + " is set by the sweep (id, upstream, users"
                        + " and pool_size are; pool sizes come from --pool-sizes)");
            }
            if (settings.put(key, pair.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException("target " + name + ": " + key + " is given twice");
            }
        }
        if (settings.isEmpty()) {
            throw new IllegalArgumentException("target " + name + ": no KEY=VALUE after the colon");
        }
        return settings;
    }

    /**
     * A comma-separated list; a comma inside a URL or a setting's value stays with it (a token that does not begin a
     * target continues the previous one when that one is a URL or has settings).
     */
    static List<SweepTarget> parseList(String csv) {
        List<String> tokens = new ArrayList<>();
        for (String part : csv.split(",")) {
            boolean starts = part.strip().matches("direct|pgmux-session|pgmux-transaction|session|transaction|url:.*")
                    || NAMED.matcher(part.strip()).matches();
            String last = tokens.isEmpty() ? "" : tokens.get(tokens.size() - 1);
            if (!starts && (last.contains("url:") || NAMED.matcher(last.strip()).matches() && last.contains(":"))) {
                tokens.set(tokens.size() - 1, last + "," + part);
            } else {
                tokens.add(part);
            }
        }
        List<SweepTarget> targets = tokens.stream().filter(s -> !s.isBlank()).map(SweepTarget::parse).toList();
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no targets given");
        }
        if (targets.stream().map(SweepTarget::label).distinct().count() != targets.size()) {
            throw new IllegalArgumentException("targets must have different names; name them as NAME=url:URL or NAME=pgmux-...");
        }
        return targets;
    }
}
