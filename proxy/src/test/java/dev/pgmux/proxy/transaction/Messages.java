package dev.pgmux.proxy.transaction;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendMessage;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.protocol.message.frontend.Close;
import dev.pgmux.protocol.message.frontend.Describe;
import dev.pgmux.protocol.message.frontend.Execute;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.protocol.message.frontend.Sync;
import dev.pgmux.protocol.testing.Buffers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Protocol messages for the tests of this package: frontend and backend messages as bytes, and one line of
 * text per message, so that a test can list, in order, exactly what a side of the relay got.
 */
final class Messages {
    private Messages() {}

    // --- frontend messages, as a client (or pgmux) sends them ---

    static byte[] parse(String name, String query, int... parameterTypes) {
        return encode(new Parse(name, query, parameterTypes));
    }

    /** Bind with parameters in text format and default result formats, as most drivers send it. */
    static byte[] bind(String portal, String statement, String... values) {
        return message('B', out -> {
            Frames.writeCString(out, portal);
            Frames.writeCString(out, statement);
            out.writeShort(0);
            out.writeShort(values.length);
            for (String value : values) {
                if (value == null) {
                    out.writeInt(-1);
                } else {
                    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                    out.writeInt(bytes.length).writeBytes(bytes);
                }
            }
            out.writeShort(0);
        });
    }

    static byte[] describeStatement(String name) {
        return encode(new Describe(Describe.STATEMENT, name));
    }

    static byte[] describePortal(String name) {
        return encode(new Describe(Describe.PORTAL, name));
    }

    static byte[] execute(String portal) {
        return encode(new Execute(portal, 0));
    }

    static byte[] closeStatement(String name) {
        return encode(new Close(Close.STATEMENT, name));
    }

    static byte[] sync() {
        return encode(Sync.INSTANCE);
    }

    static byte[] query(String sql) {
        return encode(new Query(sql));
    }

    private static byte[] encode(FrontendMessage message) {
        return Buffers.written(out -> FrontendCodec.encode(message, out));
    }

    // --- backend messages, as a server sends them ---

    static byte[] encoded(BackendMessage message) {
        return Buffers.written(out -> BackendCodec.encode(message, out));
    }

    static byte[] error(String sqlState, String message) {
        return encoded(ErrorResponse.error(sqlState, message));
    }

    /** A message with no payload: ParseComplete ('1'), BindComplete ('2'), CloseComplete ('3'), NoData ('n'), ... */
    static byte[] empty(char tag) {
        return new byte[] {(byte) tag, 0, 0, 0, 4};
    }

    static byte[] readyForQuery(char status) {
        return new byte[] {'Z', 0, 0, 0, 5, (byte) status};
    }

    static byte[] commandComplete(String tag) {
        return message('C', out -> Frames.writeCString(out, tag));
    }

    static byte[] parameterDescription(int... types) {
        return message('t', out -> {
            out.writeShort(types.length);
            for (int type : types) {
                out.writeInt(type);
            }
        });
    }

    /** RowDescription of text columns. */
    static byte[] rowDescription(String... columns) {
        return message('T', out -> {
            out.writeShort(columns.length);
            for (String column : columns) {
                Frames.writeCString(out, column);
                out.writeInt(0).writeShort(0).writeInt(25).writeShort(-1).writeInt(-1).writeShort(0);
            }
        });
    }

    /** DataRow in text format; null is SQL NULL. */
    static byte[] dataRow(String... values) {
        return message('D', out -> {
            out.writeShort(values.length);
            for (String value : values) {
                if (value == null) {
                    out.writeInt(-1);
                } else {
                    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                    out.writeInt(bytes.length).writeBytes(bytes);
                }
            }
        });
    }

    static byte[] notice(String message) {
        return message('N', out -> {
            for (Map.Entry<Byte, String> field : Notice.of("NOTICE", "00000", message).fields().entrySet()) {
                out.writeByte(field.getKey());
                Frames.writeCString(out, field.getValue());
            }
            out.writeByte(0);
        });
    }

    private static byte[] message(char tag, java.util.function.Consumer<ByteBuf> payload) {
        return Buffers.written(out -> {
            int at = Frames.beginMessage(out, (byte) tag);
            payload.accept(out);
            Frames.endMessage(out, at);
        });
    }

    /** A pooled (leak-tracked) buffer holding {@code bytes}. */
    static ByteBuf buffer(byte[]... messages) {
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer();
        for (byte[] message : messages) {
            buf.writeBytes(message);
        }
        return buf;
    }

    /** The messages that lie back to back in {@code bytes}. */
    static List<byte[]> split(byte[] bytes) {
        List<byte[]> messages = new ArrayList<>();
        int at = 0;
        while (at < bytes.length) {
            int length = 1 + ((bytes[at + 1] & 0xFF) << 24 | (bytes[at + 2] & 0xFF) << 16 | (bytes[at + 3] & 0xFF) << 8
                    | (bytes[at + 4] & 0xFF));
            messages.add(Arrays.copyOfRange(bytes, at, at + length));
            at += length;
        }
        return messages;
    }

    // --- one line per message ---

    /**
     * A frontend message as one line: {@code Parse "name" query}, {@code Bind "portal" "statement" [values]},
     * {@code Describe S "name"}, {@code Execute "portal"}, {@code Close S "name"}, {@code Sync}, {@code Query sql}.
     */
    static String frontendLine(byte[] message) {
        ByteBuf frame = Unpooled.wrappedBuffer(message);
        return switch ((char) message[0]) {
            case 'P' -> {
                Parse parse = FrontendCodec.decodeParse(frame);
                int[] types = parse.parameterTypes();
                yield "Parse \"" + parse.name() + "\" " + parse.query() + (types.length == 0 ? "" : " " + Arrays.toString(types));
            }
            case 'B' -> {
                BoundValues bind = BoundValues.of(message);
                yield "Bind \"" + bind.portal() + "\" \"" + bind.statement() + "\" " + bind.values()
                        + (bind.formats().isEmpty() ? "" : " formats " + bind.formats())
                        + (bind.resultFormats().isEmpty() ? "" : " results " + bind.resultFormats());
            }
            case 'D' -> {
                Describe describe = FrontendCodec.decodeDescribe(frame);
                yield "Describe " + (char) describe.kind() + " \"" + describe.name() + "\"";
            }
            case 'E' -> {
                Execute execute = FrontendCodec.decodeExecute(frame);
                yield "Execute \"" + execute.portal() + "\"" + (execute.maxRows() == 0 ? "" : " " + execute.maxRows());
            }
            case 'C' -> {
                Close close = FrontendCodec.decodeClose(frame);
                yield "Close " + (char) close.kind() + " \"" + close.name() + "\"";
            }
            case 'S' -> "Sync";
            case 'H' -> "Flush";
            case 'Q' -> "Query " + FrontendCodec.decodeQuery(frame).sql();
            default -> "'" + (char) message[0] + "' " + ByteBufUtil.hexDump(message);
        };
    }

    /**
     * A backend message as one line. An ErrorResponse with just severity ERROR, code and message reads
     * {@code ErrorResponse 42P05 text}; any other shows all its fields.
     */
    static String backendLine(byte[] message) {
        ByteBuf frame = Unpooled.wrappedBuffer(message);
        ByteBuf in = Frames.payload(frame);
        return switch ((char) message[0]) {
            case '1' -> "ParseComplete";
            case '2' -> "BindComplete";
            case '3' -> "CloseComplete";
            case 'n' -> "NoData";
            case 'I' -> "EmptyQueryResponse";
            case 's' -> "PortalSuspended";
            case 'Z' -> "ReadyForQuery " + (char) in.readByte();
            case 'C' -> "CommandComplete " + Frames.readCString(in);
            case 'E' -> "ErrorResponse " + notice(((ErrorResponse) BackendCodec.decode(frame)).notice());
            case 'N' -> "NoticeResponse " + notice(new Notice(fields(in)));
            case 't' -> {
                List<Integer> types = new ArrayList<>();
                for (int i = in.readUnsignedShort(); i > 0; i--) {
                    types.add(in.readInt());
                }
                yield "ParameterDescription " + types;
            }
            case 'T' -> {
                List<String> columns = new ArrayList<>();
                for (int i = in.readUnsignedShort(); i > 0; i--) {
                    columns.add(Frames.readCString(in));
                    in.skipBytes(18);
                }
                yield "RowDescription " + columns;
            }
            case 'D' -> {
                List<String> values = new ArrayList<>();
                for (int i = in.readUnsignedShort(); i > 0; i--) {
                    int length = in.readInt();
                    values.add(length < 0 ? null : in.readCharSequence(length, StandardCharsets.UTF_8).toString());
                }
                yield "DataRow " + values;
            }
            default -> "'" + (char) message[0] + "' " + ByteBufUtil.hexDump(message);
        };
    }

    private static Map<Byte, String> fields(ByteBuf in) {
        Map<Byte, String> fields = new java.util.LinkedHashMap<>();
        for (byte field; (field = in.readByte()) != 0; ) {
            fields.put(field, Frames.readCString(in));
        }
        return fields;
    }

    private static String notice(Notice notice) {
        Map<Byte, String> fields = notice.fields();
        List<Byte> plain = List.of(Notice.SEVERITY, Notice.SEVERITY_NONLOCALIZED, Notice.CODE, Notice.MESSAGE);
        if (new ArrayList<>(fields.keySet()).equals(plain) && "ERROR".equals(fields.get(Notice.SEVERITY))
                && "ERROR".equals(fields.get(Notice.SEVERITY_NONLOCALIZED))) {
            return notice.code() + " " + notice.message();
        }
        return fields.entrySet().stream().map(field -> (char) field.getKey().byteValue() + "=" + field.getValue())
                .collect(Collectors.joining(", ", "{", "}"));
    }

    /** What a Bind carries, parameters included. */
    record BoundValues(String portal, String statement, List<Integer> formats, List<String> values,
                       List<Integer> resultFormats) {
        static BoundValues of(byte[] message) {
            ByteBuf in = Frames.payload(Unpooled.wrappedBuffer(message));
            String portal = Frames.readCString(in);
            String statement = Frames.readCString(in);
            List<Integer> formats = new ArrayList<>();
            for (int i = in.readUnsignedShort(); i > 0; i--) {
                formats.add((int) in.readShort());
            }
            List<String> values = new ArrayList<>();
            for (int i = in.readUnsignedShort(); i > 0; i--) {
                int length = in.readInt();
                values.add(length < 0 ? null : in.readCharSequence(length, StandardCharsets.UTF_8).toString());
            }
            List<Integer> resultFormats = new ArrayList<>();
            for (int i = in.readUnsignedShort(); i > 0; i--) {
                resultFormats.add((int) in.readShort());
            }
            return new BoundValues(portal, statement, formats, values, resultFormats);
        }
    }
}
