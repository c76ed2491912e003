package dev.pgmux.loadtest.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line options: {@code --name value}, {@code --name=value}, flags, repeatable options, and
 * {@code -Dkey=value} (or {@code -D key=value}) parameters. Unknown options are errors, never ignored.
 */
final class Args {
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final Set<String> flags = new TreeSet<>();
    private final Map<String, String> defines = new LinkedHashMap<>();

    private Args() {}

    static Args parse(List<String> argv, Set<String> valueOptions, Set<String> flagOptions) {
        Args a = new Args();
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.startsWith("-D")) {
                String kv = arg.length() > 2 ? arg.substring(2) : next(argv, ++i, "-D");
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new UsageException("-D needs KEY=VALUE, got " + kv);
                }
                a.defines.put(kv.substring(0, eq), kv.substring(eq + 1));
                continue;
            }
            if (!arg.startsWith("--")) {
                throw new UsageException("unexpected argument: " + arg);
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flagOptions.contains(name)) {
                if (value != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                a.flags.add(name);
            } else if (valueOptions.contains(name)) {
                a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value != null ? value : next(argv, ++i, "--" + name));
            } else {
                throw new UsageException("unknown option --" + name + " (see --help)");
            }
        }
        return a;
    }

    private static String next(List<String> argv, int i, String option) {
        if (i >= argv.size()) {
            throw new UsageException(option + " needs a value");
        }
        return argv.get(i);
    }

    /** The value of a single-valued option; given twice is an error. */
    String get(String name) {
        List<String> v = values.get(name);
        if (v == null) {
            return null;
        }
        if (v.size() > 1) {
            throw new UsageException("--" + name + " given more than once");
        }
        return v.get(0);
    }

    String get(String name, String fallback) {
        String v = get(name);
        return v != null ? v : fallback;
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    boolean has(String name) {
        return values.containsKey(name) || flags.contains(name);
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    Map<String, String> defines() {
        return defines;
    }

    int intValue(String name, int fallback, int min) {
        String v = get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n < min) {
                throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a whole number, got \"" + v + "\"");
        }
    }
}
