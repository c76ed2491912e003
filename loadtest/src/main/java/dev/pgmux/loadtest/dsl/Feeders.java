package dev.pgmux.loadtest.dsl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Ready feeders: records from a list or a CSV file (circular, random or queue), and generated values. */
public final class Feeders {
    private Feeders() {}

    /** How a feeder walks through a fixed list of records. */
    public enum Strategy {
        /** From the first to the last, then again from the first. */
        CIRCULAR,
        /** A random record each time. */
        RANDOM,
        /** Each record once; then the feeder is exhausted. */
        QUEUE
    }

    public static Feeder list(List<Map<String, Object>> records, Strategy strategy) {
        List<Map<String, Object>> copy = records.stream().map(Map::copyOf).toList();
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("a feeder needs at least one record");
        }
        AtomicLong next = new AtomicLong();
        return switch (strategy) {
            case CIRCULAR -> () -> copy.get((int) (next.getAndIncrement() % copy.size()));
            case RANDOM -> () -> copy.get(ThreadLocalRandom.current().nextInt(copy.size()));
            case QUEUE -> () -> {
                long i = next.getAndIncrement();
                if (i >= copy.size()) {
                    throw new NoSuchElementException("feeder exhausted after " + copy.size() + " records");
                }
                return copy.get((int) i);
            };
        };
    }

    /**
     * Records from a CSV file whose first line names the columns. Fields are separated by commas and may be
     * quoted with {@code "} (a doubled quote inside stands for one). Values are strings.
     */
    public static Feeder csv(Path file, Strategy strategy) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read feeder file " + file + ": " + e.getMessage(), e);
        }
        lines = lines.stream().filter(l -> !l.isBlank()).toList();
        if (lines.size() < 2) {
            throw new IllegalArgumentException(file + ": a CSV feeder needs a header line and at least one record");
        }
        List<String> header = splitCsv(lines.get(0));
        List<Map<String, Object>> records = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            List<String> fields = splitCsv(lines.get(i));
            if (fields.size() != header.size()) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + " has " + fields.size()
                        + " fields, the header has " + header.size());
            }
            Map<String, Object> record = new LinkedHashMap<>();
            for (int f = 0; f < header.size(); f++) {
                record.put(header.get(f), fields.get(f));
            }
            records.add(record);
        }
        return list(records, strategy);
    }

    /** One attribute, a uniformly random int in {@code [min, max]}. */
    public static Feeder randomInt(String name, int min, int max) {
        if (max < min) {
            throw new IllegalArgumentException("randomInt needs min <= max, got " + min + ", " + max);
        }
        return () -> Map.of(name, ThreadLocalRandom.current().nextInt(min, max + 1));
    }

    /** Records made by your own code, e.g. several random values at once. */
    public static Feeder generator(Supplier<Map<String, Object>> supplier) {
        return supplier::get;
    }

    static List<String> splitCsv(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }
}
