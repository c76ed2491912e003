package dev.pgmux.proxy.testing;

import dev.pgmux.protocol.auth.Md5Password;
import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.protocol.auth.ScramException;

import java.io.BufferedInputStream;
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
 * A raw protocol-3.0 client over a plain socket, for what no driver does on request. {@link #login} logs in
 * (SCRAM-SHA-256, MD5, cleartext or trust, whatever the other side asks for); then the test sends batches of
 * frontend bytes and reads backend messages until a given number of ReadyForQuery have arrived.
 * {@link #connect} sends nothing: the test writes what it wants first (no startup packet, a broken one, an
 * SSLRequest; {@link Wire} builds them), reads single bytes or messages, drains the connection until the peer
 * closes it, and leaves with or without a Terminate, or with a reset. The socket read timeout is only a
 * safety net against a peer that never answers; it never paces the exchange.
 */
public final class WireClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The read timeout of {@link #connect(int)}: longer than anything pgmux is expected to take to answer. */
    private static final Duration RAW_READ_TIMEOUT = Duration.ofSeconds(10);

    /** What came back for a batch: the messages, and whether the wait ended early (timeout or close). */
    public record Reply(List<BackendMessage> messages, String failure) {
        public boolean complete() {
            return failure == null;
        }
    }

    /** What arrived until the peer closed (a reset counts as closing), or until the wait ran out. */
    public record Drained(byte[] bytes, boolean closed, boolean reset, Duration sinceConnect) {
        /** The bytes read as backend messages, as far as they are whole. */
        public List<BackendMessage> messages() {
            return BackendMessage.parseAll(bytes);
        }

        /** The ErrorResponses among {@link #messages()}. */
        public List<BackendMessage> errors() {
            return messages().stream().filter(m -> m.tag() == 'E').toList();
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String name;
    private final long connectedNanos;
    private boolean loggedIn;

    private WireClient(Socket socket, String name) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 16 * 1024));
        this.out = socket.getOutputStream();
        this.name = name;
        this.connectedNanos = System.nanoTime();
    }

    /** Connects to {@code port} on 127.0.0.1 and sends nothing yet. */
    public static WireClient connect(int port) throws IOException {
        return connect("client of port " + port, "127.0.0.1", port, RAW_READ_TIMEOUT);
    }

    /** Connects and sends nothing yet. */
    public static WireClient connect(String name, String host, int port, Duration readTimeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            socket.setSoTimeout((int) readTimeout.toMillis());
            return new WireClient(socket, name);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Connects and logs in up to the first ReadyForQuery. */
    public static WireClient login(String name, String host, int port, String user, String password, String database,
                            Duration readTimeout) throws IOException {
        return login(name, host, port, user, password, database, readTimeout, new byte[0]);
    }

    /**
     * Connects and logs in up to the first ReadyForQuery, sending {@code pipelined} in the same write as the
     * last authentication message, before the login is answered.
     */
    public static WireClient login(String name, String host, int port, String user, String password, String database,
                            Duration readTimeout, byte[] pipelined) throws IOException {
        WireClient client = connect(name, host, port, readTimeout);
        try {
            client.send(Wire.startupPacket(user, database));
            client.authenticate(user, password, pipelined);
            client.awaitLoginReady();
            return client;
        } catch (IOException | RuntimeException e) {
            client.socket.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /**
     * The socket, for what the client itself does not do: a read timeout of its own, or TLS layered on top once
     * {@link #readByte()} has taken the answer to an SSLRequest (the peer sends nothing more before the
     * handshake, so nothing is left behind in this client's read buffer).
     */
    public Socket socket() {
        return socket;
    }

    /** After a StartupMessage: answers the authentication requests up to and including AuthenticationOk. */
    public int authenticate(String user, String password) throws IOException {
        return authenticate(user, password, new byte[0]);
    }

    /**
     * After a StartupMessage: answers the authentication requests, whatever the method, up to and including
     * AuthenticationOk, with {@code pipelined} in the same write as the last answer. An ErrorResponse instead
     * fails. Returns the code of the first request, the method the other side chose: 10 (SASL), 5 (MD5), 3
     * (cleartext), or 0 when it asked for nothing.
     */
    public int authenticate(String user, String password, byte[] pipelined) throws IOException {
        ScramClientSession scram = null;
        int first = -1;
        for (;;) {
            BackendMessage m = readMessage();
            switch (m.tag()) {
                case 'R' -> {
                    int code = m.int32(0);
                    if (first < 0) {
                        first = code;
                    }
                    switch (code) {
                        case 0 -> {
                            return first; // AuthenticationOk
                        }
                        case 3 -> send(Wire.concat(Wire.message('p', Wire.cstringBytes(password)), pipelined));
                        case 5 -> send(Wire.concat(Wire.message('p', Wire.cstringBytes(
                                Md5Password.encode(user, password, Arrays.copyOfRange(m.payload(), 4, 8)))), pipelined));
                        case 10 -> {
                            scram = new ScramClientSession(password, RANDOM);
                            if (!m.cstrings(4).contains(scram.mechanism())) {
                                throw new IOException(name + ": " + scram.mechanism() + " not offered: " + m.cstrings(4));
                            }
                            byte[] clientFirst = scram.clientFirstMessage();
                            ByteArrayOutputStream initial = new ByteArrayOutputStream();
                            Wire.cstring(initial, scram.mechanism());
                            Wire.int32(initial, clientFirst.length);
                            initial.writeBytes(clientFirst);
                            send(Wire.message('p', initial.toByteArray()));
                        }
                        case 11 -> send(Wire.concat(Wire.message('p', scramStep(scram, m, true)), pipelined));
                        case 12 -> scramStep(scram, m, false);
                        default -> throw new IOException(name + ": unsupported authentication request " + code);
                    }
                }
                case 'E' -> throw new IOException(name + ": login failed: " + m);
                default -> { } // a NoticeResponse or NegotiateProtocolVersion: nothing to answer
            }
        }
    }

    private byte[] scramStep(ScramClientSession scram, BackendMessage m, boolean first) throws IOException {
        if (scram == null) {
            throw new IOException(name + ": SASL continuation without SASL start");
        }
        byte[] data = Arrays.copyOfRange(m.payload(), 4, m.payload().length);
        try {
            if (first) {
                return scram.handleServerFirst(data);
            }
            scram.verifyServerFinal(data);
            return null;
        } catch (ScramException e) {
            throw new IOException(name + ": SCRAM failed: " + e.getMessage(), e);
        }
    }

    /**
     * After AuthenticationOk: reads up to the first ReadyForQuery and returns what came (ParameterStatus,
     * BackendKeyData, ...). An ErrorResponse instead fails.
     */
    public List<BackendMessage> awaitLoginReady() throws IOException {
        List<BackendMessage> messages = new ArrayList<>();
        for (;;) {
            BackendMessage m = readMessage();
            messages.add(m);
            if (m.tag() == 'E') {
                throw new IOException(name + ": login failed after authentication: " + m);
            }
            if (m.tag() == 'Z') {
                loggedIn = true;
                return messages;
            }
        }
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends {@code bytes} and reads until {@code readyCount} ReadyForQuery have arrived. */
    public Reply exchange(byte[] bytes, int readyCount) throws IOException {
        send(bytes);
        return readUntilReady(readyCount);
    }

    /** Reads until {@code readyCount} ReadyForQuery; a timeout or a close ends the wait with what arrived. */
    public Reply readUntilReady(int readyCount) {
        List<BackendMessage> messages = new ArrayList<>();
        int ready = 0;
        while (ready < readyCount) {
            BackendMessage m;
            try {
                m = readMessage();
            } catch (SocketTimeoutException e) {
                return new Reply(messages, "no answer within the read timeout (" + ready + " of " + readyCount
                        + " ReadyForQuery received)");
            } catch (IOException e) {
                return new Reply(messages, "connection lost: " + e);
            }
            messages.add(m);
            if (m.tag() == 'Z') {
                ready++;
            }
        }
        return new Reply(messages, null);
    }

    /** The next backend message; the end of the stream is an {@link EOFException}. */
    public BackendMessage readMessage() throws IOException {
        int tag = in.read();
        if (tag < 0) {
            throw new EOFException("closed by the peer");
        }
        int length = in.readInt();
        if (length < 4 || length > 64 * 1024 * 1024) {
            throw new IOException("implausible length " + length + " of a '" + (char) tag + "' message");
        }
        byte[] payload = new byte[length - 4];
        in.readFully(payload);
        return new BackendMessage((char) tag, payload);
    }

    /** The next message, which must have this tag (anything else, an ErrorResponse say, is reported as it is). */
    public BackendMessage expect(char tag) throws IOException {
        BackendMessage m = readMessage();
        if (m.tag() != tag) {
            throw new IOException(name + ": expected " + BackendMessage.name(tag) + ", got " + m);
        }
        return m;
    }

    /** One byte, as the answer to SSLRequest or GSSENCRequest; -1 at the end of the stream. */
    public int readByte() throws IOException {
        return in.read();
    }

    /** A simple Query that must succeed; returns its messages. */
    public List<BackendMessage> query(String sql) throws IOException {
        Reply reply = exchange(Wire.query(sql), 1);
        if (!reply.complete()) {
            throw new IOException(name + ": " + sql + ": " + reply.failure());
        }
        for (BackendMessage m : reply.messages()) {
            if (m.tag() == 'E') {
                throw new IOException(name + ": " + sql + " failed: " + m);
            }
        }
        return reply.messages();
    }

    /** A simple Query that must succeed; the first column of its first row as text (null for NULL or no row). */
    public String queryValue(String sql) throws IOException {
        for (BackendMessage m : query(sql)) {
            if (m.tag() == 'D') {
                List<String> values = m.values();
                return values.isEmpty() ? null : values.getFirst();
            }
        }
        return null;
    }

    /** The status byte of the last ReadyForQuery of {@code messages}, or 0 when there is none. */
    public static char lastStatus(List<BackendMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).tag() == 'Z' && messages.get(i).payload().length == 1) {
                return (char) messages.get(i).payload()[0];
            }
        }
        return 0;
    }

    /**
     * Reads (and keeps) whatever arrives until the peer closes the connection or {@code max} has passed. A
     * connection reset counts as closed: the peer closed with bytes of ours unread.
     */
    public Drained drainUntilClosed(Duration max) throws IOException {
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

    /** Time since the connection was made. */
    public Duration sinceConnect() {
        return Duration.ofNanos(System.nanoTime() - connectedNanos);
    }

    /** Closes with a TCP reset instead of an orderly FIN, as a crashed client or a dropped link would. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** Closes the socket (FIN) without a Terminate message, as a client whose process exits does. */
    public void closeWithoutTerminate() throws IOException {
        socket.close();
    }

    /** Leaves as a driver does: a Terminate first once logged in, then the close. */
    @Override
    public void close() {
        try {
            if (loggedIn && !socket.isClosed()) {
                out.write(new byte[] {'X', 0, 0, 0, 4});
                out.flush();
            }
        } catch (IOException ignored) {
            // the peer is gone already
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    @Override
    public String toString() {
        return name;
    }

    /** Encoders of frontend messages and of the packets a client may send before or instead of logging in. */
    public static final class Wire {
        public static final int PROTOCOL_3_0 = 3 << 16;
        public static final int SSL_REQUEST_CODE = 80877103;
        public static final int GSSENC_REQUEST_CODE = 80877104;
        public static final int CANCEL_REQUEST_CODE = 80877102;

        private Wire() {
        }

        /** A tagged message: tag, int32 length (itself included), payload. */
        public static byte[] message(char tag, byte[] payload) {
            return ByteBuffer.allocate(5 + payload.length).put((byte) tag).putInt(4 + payload.length).put(payload).array();
        }

        public static byte[] query(String sql) {
            return message('Q', cstringBytes(sql));
        }

        /** A StartupMessage of any protocol version with these parameters, in their order. */
        public static byte[] startupPacket(int protocolVersion, Map<String, String> parameters) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            int32(body, protocolVersion);
            parameters.forEach((name, value) -> {
                cstring(body, name);
                cstring(body, value);
            });
            body.write(0);
            return untagged(body.toByteArray());
        }

        /** A protocol-3.0 StartupMessage for {@code user} and {@code database}. */
        public static byte[] startupPacket(String user, String database) {
            Map<String, String> parameters = new LinkedHashMap<>();
            parameters.put("user", user);
            parameters.put("database", database);
            return startupPacket(PROTOCOL_3_0, parameters);
        }

        public static byte[] sslRequest() {
            return ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST_CODE).array();
        }

        public static byte[] gssEncRequest() {
            return ByteBuffer.allocate(8).putInt(8).putInt(GSSENC_REQUEST_CODE).array();
        }

        public static byte[] cancelRequest(int processId, int secretKey) {
            return ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE).putInt(processId).putInt(secretKey)
                    .array();
        }

        /** An untagged packet, as everything before the login is: int32 length (itself included), body. */
        private static byte[] untagged(byte[] body) {
            return ByteBuffer.allocate(4 + body.length).putInt(4 + body.length).put(body).array();
        }

        public static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] part : parts) {
                all.writeBytes(part);
            }
            return all.toByteArray();
        }

        public static byte[] cstringBytes(String s) {
            byte[] text = s.getBytes(StandardCharsets.UTF_8);
            return Arrays.copyOf(text, text.length + 1);
        }

        public static void cstring(ByteArrayOutputStream out, String s) {
            out.writeBytes(cstringBytes(s));
        }

        public static void int32(ByteArrayOutputStream out, int value) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
        }

        public static void int16(ByteArrayOutputStream out, int value) {
            out.write((value >>> 8) & 0xff);
            out.write(value & 0xff);
        }

        /** The first {@code max} bytes in hex, for failure messages. */
        public static String hex(byte[] bytes, int max) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < Math.min(bytes.length, max); i++) {
                sb.append(String.format("%02x", bytes[i]));
            }
            return bytes.length > max ? sb + "...(" + bytes.length + " bytes)" : sb.toString();
        }
    }
}
