package dev.pgmux.protocol.message.backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fields shared by ErrorResponse and NoticeResponse, keyed by their one-byte field codes. */
public record Notice(Map<Byte, String> fields) {
    public static final byte SEVERITY = 'S';
    public static final byte SEVERITY_NONLOCALIZED = 'V';
    public static final byte CODE = 'C';
    public static final byte MESSAGE = 'M';
    public static final byte DETAIL = 'D';
    public static final byte HINT = 'H';
    public static final byte FILE = 'F';
    public static final byte ROUTINE = 'R';

    public Notice {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public static Notice of(String severity, String sqlState, String message) {
        Map<Byte, String> fields = new LinkedHashMap<>();
        fields.put(SEVERITY, severity);
        fields.put(SEVERITY_NONLOCALIZED, severity);
        fields.put(CODE, sqlState);
        fields.put(MESSAGE, message);
        return new Notice(fields);
    }

    public Notice with(byte field, String value) {
        Map<Byte, String> copy = new LinkedHashMap<>(fields);
        copy.put(field, value);
        return new Notice(copy);
    }

    public String severity() {
        return fields.getOrDefault(SEVERITY_NONLOCALIZED, fields.get(SEVERITY));
    }

    public String code() {
        return fields.get(CODE);
    }

    public String message() {
        return fields.get(MESSAGE);
    }
}
