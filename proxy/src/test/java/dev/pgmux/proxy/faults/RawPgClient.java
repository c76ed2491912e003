package dev.pgmux.proxy.faults;

import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.protocol.auth.ScramException;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately small Postgres wire-protocol client over a plain {@link Socket}, for tests that must
 * send what no driver would: arbitrary bytes, broken startup packets, oversized frames, or a socket that
 * vanishes mid-transaction. It can also log in with SCRAM-SHA-256 (the client side of pgmux's own
 * {@link ScramClientSession}) so that bad input can be sent after a real login.
 */
final class RawPgClient implements AutoCloseable {
    static final int PROTOCOL_3_0 = 3 << 16;
    static final int SSL_REQUEST_CODE = 80877103;
    static final int GSSENC_REQUEST_CODE = 80877104;
    static final int CANCEL_REQUEST_CODE = 80877102;

    /** A backend message: its tag and the payload after the length. */
    record Message(char tag, byte[] payload) {
        int int32(int offset) {
            return ByteBuffer.wrap(payload, offset, 4).getInt();
        }

        /** The fields of an ErrorResponse or NoticeResponse. */
        ServerError error() {
            if (tag != 'E' && tag != 'N') {
                throw new IllegalStateException("not an ErrorResponse/NoticeResponse: '" + tag + "'");
            }
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
            return new ServerError(fields);
        }

        /** The C strings of the payload from offset on (NUL-separated, an empty trailing string dropped). */
        List<String> cstrings(int offset) {
            List<String> out = new ArrayList<>();
            int start = offset;
            for (int i = offset; i < payload.length; i++) {
                if (payload[i] == 0) {
                    out.add(new String(payload, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return tag == 'E' || tag == 'N' ? "'" + tag + "' " + error().fields() : "'" + tag + "' (" + payload.length + " bytes)";
        }
    }

    /** Severity ('S'), SQLSTATE ('C') and message ('M') of an ErrorResponse, among its other fields. */
    record ServerError(Map<Character, String> fields) {
        String severity() {
            return fields.get('S');
        }

        String sqlState() {
            return fields.get('C');
        }

        String message() {
            return fields.get('M');
        }
    }

    /** What arrived until the peer closed, or until the wait ran out. */
    record Drained(byte[] bytes, boolean closed, boolean reset, Duration sinceConnect) {
        /** The bytes read as tagged backend messages, as far as they are whole. */
        List<Message> messages() {
            return parseMessages(bytes);
        }

        List<ServerError> errors() {
            return messages().stream().filter(m -> m.tag() == 'E').map(Message::error).toList();
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final long connectedNanos;

    private RawPgClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.connectedNanos = System.nanoTime();
    }

    static RawPgClient connect(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            return new RawPgClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    Socket socket() {
        return socket;
    }

    // ---------------------------------------------------------------------------------------------
    // Building messages

    static byte[] startupPacket(int protocolVersion, Map<String, String> parameters) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeInt(body, protocolVersion);
        parameters.forEach((name, value) -> {
            writeCString(body, name);
            writeCString(body, value);
        });
        body.write(0);
        return withLength(body.toByteArray());
    }

    static byte[] startupPacket(String user, String database) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("database", database);
        return startupPacket(PROTOCOL_3_0, parameters);
    }

    static byte[] sslRequest() {
        return codePacket(SSL_REQUEST_CODE);
    }

    static byte[] gssEncRequest() {
        return codePacket(GSSENC_REQUEST_CODE);
    }

    private static byte[] codePacket(int code) {
        return ByteBuffer.allocate(8).putInt(8).putInt(code).array();
    }

    /** A tagged frontend message: tag, int32 length (itself included), payload. */
    static byte[] message(char tag, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) tag).putInt(4 + payload.length).put(payload).array();
    }

    static byte[] query(String sql) {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        writeCString(payload, sql);
        return message('Q', payload.toByteArray());
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    private static byte[] withLength(byte[] body) {
        return ByteBuffer.allocate(4 + body.length).putInt(4 + body.length).put(body).array();
    }

    private static void writeInt(ByteArrayOutputStream out, int value) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
    }

    private static void writeCString(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    // ---------------------------------------------------------------------------------------------
    // Talking

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** One byte, as the answer to SSLRequest or GSSENCRequest; -1 at end of stream. */
    int readByte() throws IOException {
        return in.read();
    }

    Message readMessage() throws IOException {
        int tag = in.read();
        if (tag < 0) {
            throw new EOFException("connection closed by the server");
        }
        int length = in.readInt();
        if (length < 4 || length > 16 * 1024 * 1024) {
            throw new IOException("implausible length " + length + " of a '" + (char) tag + "' message");
        }
        byte[] payload = new byte[length - 4];
        in.readFully(payload);
        return new Message((char) tag, payload);
    }

    /** Reads the next message and requires its tag; an ErrorResponse instead is reported with its fields. */
    Message expect(char tag) throws IOException {
        Message m = readMessage();
        if (m.tag() != tag) {
            throw new IOException("expected a '" + tag + "' message, got " + m);
        }
        return m;
    }

    /** Sends a 3.0 StartupMessage and logs in with SCRAM-SHA-256 up to the first ReadyForQuery. */
    void login(String user, String password) throws IOException {
        write(startupPacket(user, "postgres"));
        authenticate(password);
    }

    /**
     * After a StartupMessage: the SCRAM exchange, then everything up to ReadyForQuery (ParameterStatus,
     * BackendKeyData). Returns the messages that followed AuthenticationOk.
     */
    List<Message> authenticate(String password) throws IOException {
        scramExchange(password);
        return readUntilReady();
    }

    /** After a StartupMessage: the SCRAM exchange up to and including AuthenticationOk. */
    void scramExchange(String password) throws IOException {
        Message sasl = expect('R');
        requireAuth(sasl, 10);
        if (!sasl.cstrings(4).contains("SCRAM-SHA-256")) {
            throw new IOException("SCRAM-SHA-256 not offered: " + sasl.cstrings(4));
        }
        ScramClientSession scram = new ScramClientSession(password, new SecureRandom());
        byte[] first = scram.clientFirstMessage();
        ByteArrayOutputStream initial = new ByteArrayOutputStream();
        writeCString(initial, scram.mechanism());
        writeInt(initial, first.length);
        initial.writeBytes(first);
        write(message('p', initial.toByteArray()));

        Message cont = expect('R');
        requireAuth(cont, 11);
        byte[] clientFinal;
        try {
            clientFinal = scram.handleServerFirst(Arrays.copyOfRange(cont.payload(), 4, cont.payload().length));
        } catch (ScramException e) {
            throw new IOException("bad server-first-message: " + e.getMessage(), e);
        }
        write(message('p', clientFinal));

        Message fin = expect('R');
        requireAuth(fin, 12);
        try {
            scram.verifyServerFinal(Arrays.copyOfRange(fin.payload(), 4, fin.payload().length));
        } catch (ScramException e) {
            throw new IOException("bad server-final-message: " + e.getMessage(), e);
        }
        requireAuth(expect('R'), 0);
    }

    /** Everything up to the first ReadyForQuery after login; an ErrorResponse instead fails. */
    List<Message> readUntilReady() throws IOException {
        List<Message> after = new ArrayList<>();
        for (;;) {
            Message m = readMessage();
            after.add(m);
            if (m.tag() == 'E') {
                throw new IOException("login failed after authentication: " + m);
            }
            if (m.tag() == 'Z') {
                return after;
            }
        }
    }

    private static void requireAuth(Message m, int code) throws IOException {
        if (m.payload().length < 4 || m.int32(0) != code) {
            throw new IOException("expected Authentication code " + code + ", got " + m);
        }
    }

    /** Runs a simple Query; returns every message up to and including ReadyForQuery. */
    List<Message> simpleQuery(String sql) throws IOException {
        write(query(sql));
        List<Message> messages = new ArrayList<>();
        for (;;) {
            Message m = readMessage();
            messages.add(m);
            if (m.tag() == 'Z') {
                return messages;
            }
        }
    }

    /** Runs a simple Query that must succeed; returns the first column of its first row, or null. */
    String simpleQueryValue(String sql) throws IOException {
        String value = null;
        for (Message m : simpleQuery(sql)) {
            if (m.tag() == 'E') {
                throw new IOException("query failed: " + sql + ": " + m);
            }
            if (m.tag() == 'D' && value == null) {
                int columns = ByteBuffer.wrap(m.payload(), 0, 2).getShort();
                if (columns > 0) {
                    int length = m.int32(2);
                    value = length < 0 ? null : new String(m.payload(), 6, length, StandardCharsets.UTF_8);
                }
            }
        }
        return value;
    }

    /**
     * Reads (and keeps) whatever arrives until the server closes the connection or {@code max} has passed.
     * A connection reset counts as closed.
     */
    Drained drainUntilClosed(Duration max) throws IOException {
        long deadline = System.nanoTime() + max.toNanos();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int savedTimeout = socket.getSoTimeout();
        try {
            for (;;) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return new Drained(received.toByteArray(), false, false, sinceConnect());
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    continue;
                } catch (SocketException e) {
                    // "Connection reset": the server closed with our bytes unread, which is closing too.
                    return new Drained(received.toByteArray(), true, true, sinceConnect());
                }
                if (n < 0) {
                    return new Drained(received.toByteArray(), true, false, sinceConnect());
                }
                received.write(buffer, 0, n);
            }
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(savedTimeout);
            }
        }
    }

    Duration sinceConnect() {
        return Duration.ofNanos(System.nanoTime() - connectedNanos);
    }

    /** Closes with a TCP reset instead of an orderly FIN, as a crashed client or a dropped link would. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static List<Message> parseMessages(byte[] bytes) {
        List<Message> messages = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.remaining() >= 5) {
            char tag = (char) buf.get();
            int length = buf.getInt();
            if (length < 4 || length - 4 > buf.remaining()) {
                break;
            }
            byte[] payload = new byte[length - 4];
            buf.get(payload);
            messages.add(new Message(tag, payload));
        }
        return messages;
    }

    static String hex(byte[] bytes, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, max); i++) {
            sb.append(String.format("%02x", bytes[i]));
        }
        return bytes.length > max ? sb + "...(" + bytes.length + " bytes)" : sb.toString();
    }
}
