package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.WireClient.Wire;

import java.io.ByteArrayOutputStream;
import java.util.List;

/** One frontend message of a program, with its wire encoding and a readable form. */
public sealed interface Op {

    void encode(ByteArrayOutputStream out);

    /** ReadyForQuery messages this message is answered with (Sync and Query: one). */
    default int readyCount() {
        return 0;
    }

    /** Parse, with the parameter type OIDs given (0: unspecified), none by default. */
    record Parse(String name, String sql, List<Integer> types) implements Op {
        public Parse(String name, String sql) {
            this(name, sql, List.of());
        }

        @Override
        public void encode(ByteArrayOutputStream out) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            Wire.cstring(p, name);
            Wire.cstring(p, sql);
            Wire.int16(p, types.size());
            types.forEach(type -> Wire.int32(p, type));
            out.writeBytes(Wire.message('P', p.toByteArray()));
        }

        @Override
        public String toString() {
            return "Parse(" + q(name) + ", " + q(sql) + (types.isEmpty() ? "" : ", types " + types) + ")";
        }
    }

    /** Bind with text parameters (null for SQL NULL), default formats. */
    record Bind(String portal, String statement, List<String> parameters) implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            Wire.cstring(p, portal);
            Wire.cstring(p, statement);
            Wire.int16(p, 0); // parameter formats: all text
            Wire.int16(p, parameters.size());
            for (String value : parameters) {
                if (value == null) {
                    Wire.int32(p, -1);
                } else {
                    byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    Wire.int32(p, bytes.length);
                    p.writeBytes(bytes);
                }
            }
            Wire.int16(p, 0); // result formats: all text
            out.writeBytes(Wire.message('B', p.toByteArray()));
        }

        @Override
        public String toString() {
            return "Bind(portal " + q(portal) + ", stmt " + q(statement) + (parameters.isEmpty() ? "" : ", " + parameters) + ")";
        }
    }

    record Describe(char kind, String name) implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.write(kind);
            Wire.cstring(p, name);
            out.writeBytes(Wire.message('D', p.toByteArray()));
        }

        @Override
        public String toString() {
            return "Describe(" + kind + " " + q(name) + ")";
        }
    }

    record Execute(String portal, int maxRows) implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            Wire.cstring(p, portal);
            Wire.int32(p, maxRows);
            out.writeBytes(Wire.message('E', p.toByteArray()));
        }

        @Override
        public String toString() {
            return "Execute(" + q(portal) + (maxRows == 0 ? "" : ", maxRows " + maxRows) + ")";
        }
    }

    record Close(char kind, String name) implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.write(kind);
            Wire.cstring(p, name);
            out.writeBytes(Wire.message('C', p.toByteArray()));
        }

        @Override
        public String toString() {
            return "Close(" + kind + " " + q(name) + ")";
        }
    }

    record Sync() implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            out.writeBytes(Wire.message('S', new byte[0]));
        }

        @Override
        public int readyCount() {
            return 1;
        }

        @Override
        public String toString() {
            return "Sync";
        }
    }

    record Flush() implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            out.writeBytes(Wire.message('H', new byte[0]));
        }

        @Override
        public String toString() {
            return "Flush";
        }
    }

    record Query(String sql) implements Op {
        @Override
        public void encode(ByteArrayOutputStream out) {
            out.writeBytes(Wire.query(sql));
        }

        @Override
        public int readyCount() {
            return 1;
        }

        @Override
        public String toString() {
            return "Query(" + q(sql) + ")";
        }
    }

    private static String q(String s) {
        return "\"" + s + "\"";
    }

    // --- short constructors for hand-written programs ---

    static Op parse(String name, String sql) {
        return new Parse(name, sql);
    }

    /** Parse with parameter type OIDs (0: unspecified, Postgres infers it). */
    static Op parse(String name, String sql, Integer... types) {
        return new Parse(name, sql, List.of(types));
    }

    static Op bind(String portal, String statement, String... parameters) {
        return new Bind(portal, statement, List.of(parameters));
    }

    static Op bind(String statement) {
        return new Bind("", statement, List.of());
    }

    static Op describeStatement(String name) {
        return new Describe('S', name);
    }

    static Op describePortal(String name) {
        return new Describe('P', name);
    }

    static Op execute(String portal, int maxRows) {
        return new Execute(portal, maxRows);
    }

    static Op execute() {
        return new Execute("", 0);
    }

    static Op closeStatement(String name) {
        return new Close('S', name);
    }

    static Op closePortal(String name) {
        return new Close('P', name);
    }

    static Op sync() {
        return new Sync();
    }

    static Op flush() {
        return new Flush();
    }

    static Op query(String sql) {
        return new Query(sql);
    }
}
