package dev.pgmux.proxy.session;

import dev.pgmux.protocol.auth.ScramClientSession;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Map;

/**
 * A bare wire-protocol client for what a driver will not do on request: log in with SCRAM-SHA-256 and then
 * vanish at a moment of the test's choosing.
 */
final class RawPgClient implements AutoCloseable {
    private static final int PROTOCOL_3_0 = 196608;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private RawPgClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout((int) SessionSupport.WAIT.toMillis());
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects, sends a StartupMessage with {@code parameters} and completes SCRAM up to AuthenticationOk. */
    static RawPgClient login(int port, String user, String password, Map<String, String> parameters) throws Exception {
        RawPgClient client = new RawPgClient(new Socket("127.0.0.1", port));
        try {
            client.startup(user, parameters);
            client.scram(password);
            return client;
        } catch (Exception | AssertionError e) {
            client.close();
            throw e;
        }
    }

    private void startup(String user, Map<String, String> parameters) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cstring(body, "user");
        cstring(body, user);
        cstring(body, "database");
        cstring(body, "postgres");
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            cstring(body, parameter.getKey());
            cstring(body, parameter.getValue());
        }
        body.write(0);
        out.writeInt(8 + body.size());
        out.writeInt(PROTOCOL_3_0);
        body.writeTo(out);
        out.flush();
    }

    private void scram(String password) throws Exception {
        ScramClientSession scram = new ScramClientSession(password, new SecureRandom());
        expectAuthentication(10); // AuthenticationSASL
        byte[] first = scram.clientFirstMessage();
        ByteArrayOutputStream initial = new ByteArrayOutputStream();
        cstring(initial, scram.mechanism());
        new DataOutputStream(initial).writeInt(first.length);
        initial.write(first);
        send('p', initial.toByteArray());
        byte[] serverFirst = expectAuthentication(11); // AuthenticationSASLContinue
        send('p', scram.handleServerFirst(serverFirst));
        scram.verifyServerFinal(expectAuthentication(12)); // AuthenticationSASLFinal
        expectAuthentication(0); // AuthenticationOk
    }

    /** Reads an Authentication message with this code and returns what follows the code. */
    private byte[] expectAuthentication(int code) throws IOException {
        byte tag = in.readByte();
        byte[] payload = new byte[in.readInt() - 4];
        in.readFully(payload);
        if (tag == 'E') {
            throw new AssertionError("login refused: " + new String(payload, StandardCharsets.UTF_8).replace('\0', ' '));
        }
        DataInputStream message = new DataInputStream(new java.io.ByteArrayInputStream(payload));
        int actual = tag == 'R' ? message.readInt() : -1;
        if (actual != code) {
            throw new AssertionError("expected Authentication " + code + ", got '" + (char) tag + "' " + actual);
        }
        return message.readAllBytes();
    }

    private void send(char tag, byte[] payload) throws IOException {
        out.writeByte(tag);
        out.writeInt(4 + payload.length);
        out.write(payload);
        out.flush();
    }

    private static void cstring(ByteArrayOutputStream buffer, String value) {
        buffer.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        buffer.write(0);
    }

    /** Closes the socket without a Terminate message, as a client that crashes or loses its network. */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
