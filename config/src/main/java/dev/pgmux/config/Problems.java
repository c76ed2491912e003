package dev.pgmux.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Collects problems as {@code path: problem}. A problem under a path that already has one is
 * dropped: when the document or {@code tenants[0]} is not a mapping, or {@code tenants[0].port}
 * is not a number, the follow-up complaints about the placeholder values read in their place
 * would only be noise.
 */
final class Problems {

    private static final Pattern INDEX = Pattern.compile("\\[(\\d+)]");

    private record Problem(String path, String line) {
    }

    private final List<Problem> problems = new ArrayList<>();

    void add(String path, String problem) {
        if (covered(path)) {
            return;
        }
        problems.add(new Problem(path, path.isEmpty() ? problem : path + ": " + problem));
    }

    private boolean covered(String path) {
        for (Problem known : problems) {
            String p = known.path();
            if (p.isEmpty() || path.equals(p) || path.startsWith(p + ".") || path.startsWith(p + "[")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Orders the problems as a reader meets their places in the file: by top-level section
     * (unknown ones first), then by list position ({@code tenants[2]} before {@code tenants[10]}).
     * Within one place, the order found is kept: shape problems before rule problems.
     */
    void sortBySection(List<String> sections) {
        problems.sort(Comparator.comparingInt((Problem p) -> sections.indexOf(p.path().split("[.\\[]", 2)[0]))
                .thenComparing(p -> indexes(p.path()), Problems::compareIndexes));
    }

    private static List<Integer> indexes(String path) {
        List<Integer> indexes = new ArrayList<>();
        Matcher m = INDEX.matcher(path);
        while (m.find()) {
            indexes.add(Integer.parseInt(m.group(1)));
        }
        return indexes;
    }

    private static int compareIndexes(List<Integer> a, List<Integer> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = Integer.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    List<String> lines() {
        return problems.stream().map(Problem::line).toList();
    }

    void throwIfAny(String summary) {
        if (!problems.isEmpty()) {
            throw new ConfigException(summary, lines());
        }
    }
}
