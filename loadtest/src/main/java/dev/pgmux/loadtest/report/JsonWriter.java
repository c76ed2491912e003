package dev.pgmux.loadtest.report;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer (no dependency for one file format). Numbers that JSON cannot hold (NaN,
 * infinities) are written as {@code null}.
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    /** Per open container: whether it has an element yet. */
    private final Deque<boolean[]> stack = new ArrayDeque<>();
    private boolean afterName;
    private final boolean pretty;

    public JsonWriter(boolean pretty) {
        this.pretty = pretty;
    }

    public JsonWriter beginObject() {
        value();
        out.append('{');
        stack.push(new boolean[] {false});
        return this;
    }

    public JsonWriter endObject() {
        return end('}');
    }

    public JsonWriter beginArray() {
        value();
        out.append('[');
        stack.push(new boolean[] {false});
        return this;
    }

    public JsonWriter endArray() {
        return end(']');
    }

    public JsonWriter name(String name) {
        separator();
        string(name);
        out.append(pretty ? ": " : ":");
        afterName = true;
        return this;
    }

    public JsonWriter value(String v) {
        if (v == null) {
            return nullValue();
        }
        value();
        string(v);
        return this;
    }

    public JsonWriter value(long v) {
        value();
        out.append(v);
        return this;
    }

    public JsonWriter value(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return nullValue();
        }
        value();
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            out.append((long) v);
        } else {
            // enough digits to round-trip what the reports show (microseconds as ms, rates)
            out.append(Double.toString(Math.round(v * 1e6) / 1e6));
        }
        return this;
    }

    public JsonWriter value(boolean v) {
        value();
        out.append(v);
        return this;
    }

    public JsonWriter nullValue() {
        value();
        out.append("null");
        return this;
    }

    public JsonWriter field(String name, String v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, long v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, double v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, boolean v) {
        return name(name).value(v);
    }

    @Override
    public String toString() {
        if (!stack.isEmpty()) {
            throw new IllegalStateException("unclosed JSON container");
        }
        return out.toString();
    }

    private JsonWriter end(char c) {
        boolean[] top = stack.pop();
        if (pretty && top[0]) {
            newline();
        }
        out.append(c);
        return this;
    }

    /** Before a value: a separator, unless it follows a name. */
    private void value() {
        if (afterName) {
            afterName = false;
            return;
        }
        separator();
    }

    private void separator() {
        if (stack.isEmpty()) {
            return;
        }
        boolean[] top = stack.peek();
        if (top[0]) {
            out.append(',');
        }
        top[0] = true;
        if (pretty) {
            newline();
        }
    }

    private void newline() {
        out.append('\n');
        out.append("  ".repeat(stack.size()));
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || c == '<') {
                        // '<' escaped too, so the JSON can sit inside an HTML <script> block safely
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
