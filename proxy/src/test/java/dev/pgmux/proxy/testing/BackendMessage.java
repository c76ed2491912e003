package dev.pgmux.proxy.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One backend message as it came off the wire: its tag and the payload after the length. */
public record BackendMessage(char tag, byte[] payload) {

    public int int32(int offset) {
        return ByteBuffer.wrap(payload, offset, 4).getInt();
    }

    /** The fields of an ErrorResponse or NoticeResponse, by field code. */
    public Map<Character, String> fields() {
        Map<Character, String> fields = new LinkedHashMap<>();
        int i = 0;
        while (i < payload.length && payload[i] != 0) {
            char type = (char) payload[i++];
            int end = i;
            while (end < payload.length && payload[end] != 0) {
                end++;
            }
            fields.put(type, new String(payload, i, end - i, StandardCharsets.UTF_8));
            i = end + 1;
        }
        return fields;
    }

    /** The SQLSTATE of an ErrorResponse or NoticeResponse. */
    public String sqlState() {
        return fields().get('C');
    }

    /** The message text of an ErrorResponse or NoticeResponse. */
    public String message() {
        return fields().get('M');
    }

    /** The severity of an ErrorResponse or NoticeResponse (ERROR, FATAL, ...). */
    public String severity() {
        return fields().get('S');
    }

    /** The C strings of the payload from {@code offset} on, each up to its NUL. */
    public List<String> cstrings(int offset) {
        List<String> strings = new ArrayList<>();
        int start = offset;
        for (int i = offset; i < payload.length; i++) {
            if (payload[i] == 0) {
                strings.add(new String(payload, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return strings;
    }

    /** The first C string of the payload (CommandComplete's tag). */
    public String text() {
        int end = 0;
        while (end < payload.length && payload[end] != 0) {
            end++;
        }
        return new String(payload, 0, end, StandardCharsets.UTF_8);
    }

    /** The column values of a DataRow, as text (null for SQL NULL). */
    public List<String> values() {
        ByteBuffer buf = ByteBuffer.wrap(payload);
        int columns = buf.getShort();
        List<String> values = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
            int length = buf.getInt();
            if (length < 0) {
                values.add(null);
            } else {
                byte[] value = new byte[length];
                buf.get(value);
                values.add(new String(value, StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /** The column names of a RowDescription. */
    public List<String> columnNames() {
        ByteBuffer buf = ByteBuffer.wrap(payload);
        int columns = buf.getShort();
        List<String> names = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
            int start = buf.position();
            while (buf.get() != 0) {
                // up to the terminator
            }
            names.add(new String(payload, start, buf.position() - start - 1, StandardCharsets.UTF_8));
            buf.position(buf.position() + 18);
        }
        return names;
    }

    /** The whole messages at the start of {@code bytes}, in order; a partial one at the end is left out. */
    public static List<BackendMessage> parseAll(byte[] bytes) {
        List<BackendMessage> messages = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.remaining() >= 5) {
            char tag = (char) buf.get();
            int length = buf.getInt();
            if (length < 4 || length - 4 > buf.remaining()) {
                break;
            }
            byte[] payload = new byte[length - 4];
            buf.get(payload);
            messages.add(new BackendMessage(tag, payload));
        }
        return messages;
    }

    public static String name(char tag) {
        return switch (tag) {
            case '1' -> "ParseComplete";
            case '2' -> "BindComplete";
            case '3' -> "CloseComplete";
            case 'C' -> "CommandComplete";
            case 'D' -> "DataRow";
            case 'E' -> "ErrorResponse";
            case 'I' -> "EmptyQueryResponse";
            case 'K' -> "BackendKeyData";
            case 'N' -> "NoticeResponse";
            case 'S' -> "ParameterStatus";
            case 'T' -> "RowDescription";
            case 'Z' -> "ReadyForQuery";
            case 'n' -> "NoData";
            case 's' -> "PortalSuspended";
            case 't' -> "ParameterDescription";
            case 'A' -> "NotificationResponse";
            case 'R' -> "Authentication";
            case 'v' -> "NegotiateProtocolVersion";
            default -> "'" + tag + "'";
        };
    }

    @Override
    public String toString() {
        String detail = switch (tag) {
            case 'E', 'N' -> {
                Map<Character, String> f = fields();
                yield " " + f.get('S') + " " + f.get('C') + " \"" + f.get('M') + "\"";
            }
            case 'Z' -> payload.length == 1 ? " " + (char) payload[0] : "";
            case 'R' -> payload.length >= 4 ? " " + int32(0) : "";
            case 'C' -> " \"" + text() + "\"";
            case 'D' -> " " + values();
            case 'T' -> " " + columnNames();
            default -> "";
        };
        return name(tag) + detail;
    }
}
