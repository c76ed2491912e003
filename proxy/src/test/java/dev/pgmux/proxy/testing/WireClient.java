package dev.pgmux.proxy.testing;

import dev.pgmux.protocol.auth.Md5Password;
import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.protocol.auth.ScramException;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A raw protocol-3.0 client over a plain socket: logs in (SCRAM-SHA-256, MD5, cleartext or trust, whatever
 * the other side asks for), then sends batches of frontend bytes and reads backend messages until a given
 * number of ReadyForQuery have arrived. The socket read timeout is only a safety net against a peer that
 * never answers; it never paces the exchange.
 */
public final class WireClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What came back for a batch: the messages, and whether the wait ended early (timeout or close). */
    public record Reply(List<BackendMessage> messages, String failure) {
        public boolean complete() {
            return failure == null;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String name;

    private WireClient(Socket socket, String name) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 16 * 1024));
        this.out = socket.getOutputStream();
        this.name = name;
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
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            socket.setSoTimeout((int) readTimeout.toMillis());
            WireClient client = new WireClient(socket, name);
            client.startup(user, password, database, pipelined);
            return client;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    private void startup(String user, String password, String database, byte[] pipelined) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Wire.int32(body, 3 << 16);
        Wire.cstring(body, "user");
        Wire.cstring(body, user);
        Wire.cstring(body, "database");
        Wire.cstring(body, database);
        body.write(0);
        byte[] payload = body.toByteArray();
        out.write(ByteBuffer.allocate(4).putInt(4 + payload.length).array());
        out.write(payload);
        out.flush();

        ScramClientSession scram = null;
        for (;;) {
            BackendMessage m = read();
            switch (m.tag()) {
                case 'R' -> {
                    int code = m.int32(0);
                    switch (code) {
                        case 0 -> { } // AuthenticationOk
                        case 3 -> send(concat(Wire.message('p', Wire.cstringBytes(password)), pipelined));
                        case 5 -> send(concat(Wire.message('p', Wire.cstringBytes(
                                Md5Password.encode(user, password, Arrays.copyOfRange(m.payload(), 4, 8)))), pipelined));
                        case 10 -> {
                            scram = new ScramClientSession(password, RANDOM);
                            byte[] first = scram.clientFirstMessage();
                            ByteArrayOutputStream initial = new ByteArrayOutputStream();
                            Wire.cstring(initial, scram.mechanism());
                            Wire.int32(initial, first.length);
                            initial.writeBytes(first);
                            send(Wire.message('p', initial.toByteArray()));
                        }
                        case 11 -> send(concat(Wire.message('p', scramStep(scram, m, true)), pipelined));
                        case 12 -> scramStep(scram, m, false);
                        default -> throw new IOException(name + ": unsupported authentication request " + code);
                    }
                }
                case 'E' -> throw new IOException(name + ": login failed: " + m);
                case 'Z' -> {
                    return;
                }
                default -> { } // ParameterStatus, BackendKeyData, NoticeResponse
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
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
                m = read();
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

    private BackendMessage read() throws IOException {
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

    /** The status byte of the last ReadyForQuery of {@code messages}, or 0 when there is none. */
    public static char lastStatus(List<BackendMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).tag() == 'Z' && messages.get(i).payload().length == 1) {
                return (char) messages.get(i).payload()[0];
            }
        }
        return 0;
    }

    @Override
    public void close() {
        try {
            if (!socket.isClosed()) {
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

    /** Encoding helpers for frontend messages. */
    public static final class Wire {
        private Wire() {
        }

        public static byte[] message(char tag, byte[] payload) {
            return ByteBuffer.allocate(5 + payload.length).put((byte) tag).putInt(4 + payload.length).put(payload).array();
        }

        public static byte[] query(String sql) {
            return message('Q', cstringBytes(sql));
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
    }
}
