package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.BackendMessage;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares what a direct server and pgmux answered to the same batch. Messages that legitimately differ
 * are left out (NoticeResponse, ParameterStatus, BackendKeyData, NotificationResponse); an ErrorResponse is
 * compared by severity, SQLSTATE, message, detail and hint (not position, file, line or routine); every
 * other message byte for byte (ReadyForQuery status, CommandComplete tag, DataRow values, descriptions).
 */
public final class Responses {
    /** The ErrorResponse fields that must be the same. */
    private static final char[] ERROR_FIELDS = {'S', 'V', 'C', 'M', 'D', 'H'};

    private Responses() {
    }

    /** The first difference, or null when both answered the same. */
    public record Difference(int index, String what) {
        /** What differs, with pgmux's server names, the client's names and counts replaced by placeholders. */
        public String signature() {
            return what.replaceAll("pgmux_[0-9a-z]+", "pgmux_N")
                    .replaceAll("\"(s1|s2|s3|q)\"", "\"NAME\"")
                    .replaceAll("\\d+ parameters", "N parameters")
                    .replaceAll("requires \\d+", "requires N");
        }
    }

    public static List<BackendMessage> relevant(List<BackendMessage> messages) {
        return messages.stream().filter(m -> m.tag() != 'N' && m.tag() != 'S' && m.tag() != 'K' && m.tag() != 'A').toList();
    }

    public static Difference compare(List<BackendMessage> expected, List<BackendMessage> actual) {
        List<BackendMessage> e = relevant(expected);
        List<BackendMessage> a = relevant(actual);
        for (int i = 0; i < Math.max(e.size(), a.size()); i++) {
            if (i >= e.size()) {
                return new Difference(i, "pgmux sent more: " + a.get(i));
            }
            if (i >= a.size()) {
                return new Difference(i, "pgmux sent less: " + e.get(i) + " missing");
            }
            String why = differs(e.get(i), a.get(i));
            if (why != null) {
                return new Difference(i, why);
            }
        }
        return null;
    }

    private static String differs(BackendMessage expected, BackendMessage actual) {
        if (expected.tag() != actual.tag()) {
            return "expected " + expected + ", pgmux sent " + actual;
        }
        if (expected.tag() == 'E') {
            Map<Character, String> e = expected.fields();
            Map<Character, String> a = actual.fields();
            for (char field : ERROR_FIELDS) {
                if (!Objects.equals(e.get(field), a.get(field))) {
                    return "ErrorResponse field '" + field + "': expected " + quote(e.get(field)) + ", pgmux sent " + quote(a.get(field));
                }
            }
            return null;
        }
        if (!Arrays.equals(expected.payload(), actual.payload())) {
            return "expected " + expected + ", pgmux sent " + actual + " (payloads differ)";
        }
        return null;
    }

    private static String quote(String s) {
        return s == null ? "(absent)" : "\"" + s + "\"";
    }

    /** Both streams side by side, with the difference marked. */
    public static String sideBySide(List<BackendMessage> expected, List<BackendMessage> actual, int mark) {
        List<BackendMessage> e = relevant(expected);
        List<BackendMessage> a = relevant(actual);
        StringBuilder sb = new StringBuilder(String.format("     %-60s | %s%n", "direct Postgres", "pgmux"));
        for (int i = 0; i < Math.max(e.size(), a.size()); i++) {
            String left = i < e.size() ? e.get(i).toString() : "";
            String right = i < a.size() ? a.get(i).toString() : "";
            sb.append(String.format("  %s%-2d %-60s | %s%n", i == mark ? ">" : " ", i, abbreviate(left), right));
        }
        return sb.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
