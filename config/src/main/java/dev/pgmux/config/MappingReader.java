package dev.pgmux.config;

import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads typed values out of one YAML mapping, reporting each problem under its path. A value
 * that cannot be read is reported and replaced by the default (or a placeholder), so that
 * reading goes on and every problem in the file is found in one pass. Environment variables are
 * substituted in string values as they are read.
 */
final class MappingReader {

    private final Map<?, ?> map;
    private final String path;
    private final Problems problems;
    private final Map<String, String> env;

    private MappingReader(Map<?, ?> map, String path, Problems problems, Map<String, String> env) {
        this.map = map;
        this.path = path;
        this.problems = problems;
        this.env = env;
    }

    /** The top of the document; a document that is not a mapping is reported and read as empty. */
    static MappingReader root(Object document, Problems problems, Map<String, String> env) {
        if (document instanceof Map<?, ?> map) {
            return new MappingReader(map, "", problems, env);
        }
        problems.add("", "the configuration must be a mapping of keys to values, got " + describe(document));
        return new MappingReader(Map.of(), "", problems, env);
    }

    String path() {
        return path;
    }

    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Reports a problem with the value under {@code key} found by the caller. */
    void report(String key, String problem) {
        problems.add(path(key), problem);
    }

    void rejectUnknownKeys(List<String> known) {
        for (Object key : map.keySet()) {
            if (!(key instanceof String name && known.contains(name))) {
                problems.add(path(String.valueOf(key)), "unknown key (known keys: " + String.join(", ", known) + ")");
            }
        }
    }

    /** Whether the key is present with a value (null counts as absent). */
    boolean has(String key) {
        return map.get(key) != null;
    }

    /** A nested mapping; missing or null reads as empty. */
    MappingReader mapping(String key) {
        Object value = map.get(key);
        if (value instanceof Map<?, ?> nested) {
            return new MappingReader(nested, path(key), problems, env);
        }
        if (value != null) {
            problems.add(path(key), "must be a mapping, got " + describe(value));
        }
        return new MappingReader(Map.of(), path(key), problems, env);
    }

    /** A list of mappings; missing or null reads as empty. Elements that are not mappings read as empty ones. */
    List<MappingReader> mappings(String key) {
        List<?> list = list(key);
        List<MappingReader> readers = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String elementPath = path(key) + "[" + i + "]";
            if (list.get(i) instanceof Map<?, ?> element) {
                readers.add(new MappingReader(element, elementPath, problems, env));
            } else {
                problems.add(elementPath, "must be a mapping, got " + describe(list.get(i)));
                readers.add(new MappingReader(Map.of(), elementPath, problems, env));
            }
        }
        return readers;
    }

    /** The list under {@code key}; missing or null reads as empty, anything else is reported and read as empty. */
    private List<?> list(String key) {
        Object value = map.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            problems.add(path(key), "must be a list, got " + describe(value));
            return List.of();
        }
        return list;
    }

    /** A list of strings; missing or null reads as empty. Elements that are not strings are reported and left out. */
    List<String> strings(String key) {
        List<?> list = list(key);
        List<String> strings = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String elementKey = key + "[" + i + "]";
            if (list.get(i) == null) {
                problems.add(path(elementKey), "must be a string, got nothing");
            } else {
                text(elementKey, list.get(i)).ifPresent(strings::add);
            }
        }
        return strings;
    }

    Optional<String> optionalString(String key) {
        Object value = map.get(key);
        return value == null ? Optional.empty() : text(key, value);
    }

    String string(String key, String defaultValue) {
        return optionalString(key).orElse(defaultValue);
    }

    /** A string that must be present; when it is not, an empty placeholder is returned. */
    String requiredString(String key) {
        if (map.get(key) == null) {
            problems.add(path(key), "is required");
            return "";
        }
        return optionalString(key).orElse("");
    }

    /** An optional file path; an empty value (e.g. from {@code ${CERT_FILE:-}}) counts as absent. */
    Optional<Path> optionalPath(String key) {
        Optional<String> text = optionalString(key).filter(s -> !s.isEmpty());
        try {
            return text.map(Path::of);
        } catch (InvalidPathException e) {
            problems.add(path(key), "not a valid file path: " + e.getReason());
            return Optional.empty();
        }
    }

    int integer(String key, int defaultValue) {
        Object value = map.get(key);
        BigInteger number;
        switch (value) {
            case null -> {
                return defaultValue;
            }
            case Integer i -> number = BigInteger.valueOf(i);
            case Long l -> number = BigInteger.valueOf(l);
            case BigInteger b -> number = b;
            case String s -> {
                Optional<String> text = substitute(key, s);
                if (text.isEmpty()) {
                    return defaultValue;
                }
                if (!text.get().trim().matches("[-+]?\\d+")) {
                    problems.add(path(key), "must be an integer, got \"" + text.get() + "\"");
                    return defaultValue;
                }
                number = new BigInteger(text.get().trim());
            }
            default -> {
                problems.add(path(key), "must be an integer, got " + describe(value));
                return defaultValue;
            }
        }
        if (number.bitLength() > 31) {
            problems.add(path(key), "number out of range, got " + number);
            return defaultValue;
        }
        return number.intValue();
    }

    boolean bool(String key, boolean defaultValue) {
        Object value = map.get(key);
        switch (value) {
            case null -> {
                return defaultValue;
            }
            case Boolean b -> {
                return b;
            }
            case String s -> {
                Optional<String> text = substitute(key, s);
                if (text.isEmpty()) {
                    return defaultValue;
                }
                String word = text.get().trim().toLowerCase(Locale.ROOT);
                if (word.equals("true") || word.equals("false")) {
                    return Boolean.parseBoolean(word);
                }
                problems.add(path(key), "must be true or false, got \"" + text.get() + "\"");
                return defaultValue;
            }
            default -> {
                problems.add(path(key), "must be true or false, got " + describe(value));
                return defaultValue;
            }
        }
    }

    /** A duration; a plain number is milliseconds. */
    Duration duration(String key, Duration defaultValue) {
        Object value = map.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Integer || value instanceof Long) {
            return Duration.ofMillis(((Number) value).longValue());
        }
        if (value instanceof String s) {
            Optional<String> text = substitute(key, s);
            try {
                return text.map(Durations::parse).orElse(defaultValue);
            } catch (IllegalArgumentException e) {
                problems.add(path(key), e.getMessage());
                return defaultValue;
            }
        }
        problems.add(path(key), "must be a duration, got " + describe(value));
        return defaultValue;
    }

    /** A size in bytes that must fit in an int; larger than {@code max} is reported here, before it would overflow. */
    int size(String key, int defaultValue, int max) {
        Object value = map.get(key);
        if (value == null) {
            return defaultValue;
        }
        long bytes;
        if (value instanceof Integer || value instanceof Long) {
            bytes = ((Number) value).longValue();
        } else if (value instanceof String s) {
            Optional<String> text = substitute(key, s);
            if (text.isEmpty()) {
                return defaultValue;
            }
            try {
                bytes = Sizes.parse(text.get());
            } catch (IllegalArgumentException e) {
                problems.add(path(key), e.getMessage());
                return defaultValue;
            }
        } else {
            problems.add(path(key), "must be a size, got " + describe(value));
            return defaultValue;
        }
        if (bytes < Integer.MIN_VALUE) {
            problems.add(path(key), "number out of range, got " + bytes);
            return defaultValue;
        }
        if (bytes > max) {
            problems.add(path(key), "must be at most " + Sizes.format(max) + ", got " + Sizes.format(bytes));
            return defaultValue;
        }
        return (int) bytes;
    }

    private Optional<String> text(String key, Object value) {
        if (value instanceof String s) {
            return substitute(key, s);
        }
        // The resolver only types plain decimal integers and true/false, so this gives back the text as written.
        if (value instanceof Number || value instanceof Boolean) {
            return Optional.of(value.toString());
        }
        problems.add(path(key), "must be a string, got " + describe(value));
        return Optional.empty();
    }

    private Optional<String> substitute(String key, String value) {
        if (env == null) {
            return Optional.of(value); // a document that may not read the environment (the metadata database's)
        }
        try {
            return Optional.of(EnvSubstitution.apply(value, env));
        } catch (IllegalArgumentException e) {
            problems.add(path(key), e.getMessage());
            return Optional.empty();
        }
    }

    /** Names the kind of a value without showing it: it may be a secret. */
    static String describe(Object value) {
        return switch (value) {
            case null -> "nothing";
            case Map<?, ?> m -> "a mapping";
            case List<?> l -> "a list";
            case String s -> "a string";
            case Number n -> "a number";
            case Boolean b -> "a boolean";
            default -> "a value of type " + value.getClass().getSimpleName();
        };
    }
}
