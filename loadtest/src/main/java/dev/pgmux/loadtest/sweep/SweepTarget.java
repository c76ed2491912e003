package dev.pgmux.loadtest.sweep;

import dev.pgmux.loadtest.engine.Target;

import java.util.ArrayList;
import java.util.List;
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

    /** pgmux, started by the sweep with each pool size, through its session or transaction port. */
    record Pgmux(boolean transactionMode) implements SweepTarget {
        @Override
        public String label() {
            return transactionMode ? "pgmux-transaction" : "pgmux-session";
        }
    }

    /** Any other server: a pooler already running (PgBouncer, Supavisor, a pgmux of your own). */
    record Url(String label, String url) implements SweepTarget {
        @Override
        public String toString() {
            return "Url[" + label + ", " + Target.redact(url) + "]";
        }
    }

    Pattern NAMED_URL = Pattern.compile("([A-Za-z0-9_.-]+)=(url:.+)");

    /** {@code direct}, {@code pgmux-session}, {@code pgmux-transaction}, {@code url:URL} or {@code NAME=url:URL}. */
    static SweepTarget parse(String token) {
        String t = token.strip();
        Matcher named = NAMED_URL.matcher(t);
        if (named.matches()) {
            return new Url(named.group(1), named.group(2).substring(4));
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
                throw new IllegalArgumentException("unknown target \"" + t
                        + "\": use direct, pgmux-session, pgmux-transaction, url:URL or NAME=url:URL");
            }
        };
    }

    /** A comma-separated list; a comma inside a URL stays with it (a token that is not a target continues the URL). */
    static List<SweepTarget> parseList(String csv) {
        List<String> tokens = new ArrayList<>();
        for (String part : csv.split(",")) {
            boolean starts = part.strip().matches("direct|pgmux-session|pgmux-transaction|session|transaction|url:.*")
                    || NAMED_URL.matcher(part.strip()).matches();
            if (!starts && !tokens.isEmpty() && tokens.get(tokens.size() - 1).contains("url:")) {
                tokens.set(tokens.size() - 1, tokens.get(tokens.size() - 1) + "," + part);
            } else {
                tokens.add(part);
            }
        }
        List<SweepTarget> targets = tokens.stream().filter(s -> !s.isBlank()).map(SweepTarget::parse).toList();
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no targets given");
        }
        if (targets.stream().map(SweepTarget::label).distinct().count() != targets.size()) {
            throw new IllegalArgumentException("targets must have different names; name URLs as NAME=url:URL");
        }
        return targets;
    }
}
