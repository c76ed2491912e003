package dev.pgmux.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects problems as {@code path: problem}. A problem under a path that already has one is
 * dropped: when the document or {@code tenants[0]} is not a mapping, or {@code tenants[0].port} is not a number,
 * the follow-up complaints about the placeholder values read in their place would only be noise.
 */
final class Problems {

    private final List<String> paths = new ArrayList<>();
    private final List<String> lines = new ArrayList<>();

    void add(String path, String problem) {
        if (covered(path)) {
            return;
        }
        paths.add(path);
        lines.add(path.isEmpty() ? problem : path + ": " + problem);
    }

    private boolean covered(String path) {
        for (String known : paths) {
            if (known.isEmpty() || path.equals(known) || path.startsWith(known + ".") || path.startsWith(known + "[")) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return lines.isEmpty();
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    void throwIfAny(String summary) {
        if (!lines.isEmpty()) {
            throw new ConfigException(summary, lines);
        }
    }
}
