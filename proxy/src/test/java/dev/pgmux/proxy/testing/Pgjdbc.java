package dev.pgmux.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.postgresql.core.BaseConnection;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** What tests need of pgjdbc's internals and of the wire around it: cancel keys, its socket, one-value queries. */
public final class Pgjdbc {
    private Pgjdbc() {}

    /** The first column of the first row of {@code sql}, as text. */
    public static String text(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getString(1);
        }
    }

    /** The cancel secret pgmux handed to this connection in BackendKeyData (pgjdbc keeps it private). */
    public static int cancelSecret(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field key = QueryExecutorBase.class.getDeclaredField("cancelKey");
        key.setAccessible(true);
        return key.getInt(executor);
    }

    /** The socket pgjdbc talks to pgmux over. */
    public static Socket socket(Connection c) throws Exception {
        QueryExecutorBase executor = (QueryExecutorBase) c.unwrap(BaseConnection.class).getQueryExecutor();
        Field stream = QueryExecutorBase.class.getDeclaredField("pgStream");
        stream.setAccessible(true);
        return ((PGStream) stream.get(executor)).getSocket();
    }

    /** Resets the client's socket (RST, as when its process is killed), whatever pgjdbc is doing with it. */
    public static void kill(Connection c) throws Exception {
        Socket socket = socket(c);
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /**
     * Sends a CancelRequest of its own to pgmux, as a driver does, and returns once pgmux has dealt with it
     * and closed the connection.
     */
    public static void sendCancel(int port, int processId, int secretKey) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) Wait.DEFAULT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(16);
            out.writeInt(80877102);
            out.writeInt(processId);
            out.writeInt(secretKey);
            out.flush();
            InputStream in = socket.getInputStream();
            assertThat(in.read()).as("pgmux answers a CancelRequest by closing the connection").isEqualTo(-1);
        }
    }

    /** Upstream backends running exactly {@code query} right now, seen by a superuser. */
    public static long running(String query) throws SQLException {
        try (Connection su = TestPostgres.get().superuser();
             PreparedStatement ps = su.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = ?")) {
            ps.setString(1, query);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
