package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.WireClient.Wire;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * COPY through both ports: data goes in and comes out byte for byte, whatever its size and however the
 * rows fall across network reads; a COPY that fails (bad data, the client giving up, a rollback) leaves
 * nothing behind and the connection usable.
 */
@Timeout(120)
abstract class CopyCases {
    static final TestRole ROLE = TestPostgres.SCRAM;

    /** The pgmux under test, its tenant's pool size 3 (plaintext upstream: {@link CopyTest}; TLS: {@link UpstreamTlsCopyTest}). */
    abstract PgmuxHarness pgmux();

    @ParameterizedTest
    @EnumSource(Port.class)
    void copyInThenCopyOutReturnsTheSameBytes(Port port) throws Exception {
        String table = freshTable(port, "copy_roundtrip");
        byte[] sent = canonicalRows(100_000);
        try (Connection c = port.connect(pgmux(), ROLE)) {
            CopyManager copy = copyApi(c);
            long in = copy.copyIn("COPY " + table + " (id, name) FROM STDIN", new ByteArrayInputStream(sent));
            assertThat(in).as("rows COPY FROM reported").isEqualTo(100_000);
            assertThat(text(c, "SELECT count(*) FROM " + table)).isEqualTo("100000");

            ByteArrayOutputStream received = new ByteArrayOutputStream(sent.length);
            long out = copy.copyOut("COPY (SELECT id, name FROM " + table + " ORDER BY id) TO STDOUT", received);
            assertThat(out).as("rows COPY TO reported").isEqualTo(100_000);
            assertThat(received.size()).as("bytes back").isEqualTo(sent.length);
            assertThat(sha256(received.toByteArray())).as("checksum of what came back").isEqualTo(sha256(sent));
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aBadValueFailsTheCopyWith22P02AndTheConnectionStaysUsable(Port port) throws Exception {
        String table = freshTable(port, "copy_bad_value");
        // The bad row sits deep in the data, so the error meets a client still sending.
        StringBuilder rows = new StringBuilder();
        for (int i = 1; i <= 20_000; i++) {
            rows.append(i == 15_000 ? "not a number" : Integer.toString(i)).append("\tname ").append(i).append('\n');
        }
        try (Connection c = port.connect(pgmux(), ROLE)) {
            SQLException e = catchThrowableOfType(SQLException.class, () -> copyApi(c).copyIn(
                    "COPY " + table + " (id, name) FROM STDIN",
                    new ByteArrayInputStream(rows.toString().getBytes(StandardCharsets.UTF_8))));
            assertThat((Object) e).as("COPY of text into an int column").isNotNull();
            assertThat(e.getSQLState()).as("SQLSTATE of %s", e).isEqualTo("22P02");
            assertThat(e.getMessage()).contains("not a number");

            // The failed COPY is all or nothing; the next statements run, in transaction mode maybe elsewhere.
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows the failed COPY left").isEqualTo("0");
            long copied = copyApi(c).copyIn("COPY " + table + " (id, name) FROM STDIN",
                    new ByteArrayInputStream("1\tafter the error\n".getBytes(StandardCharsets.UTF_8)));
            assertThat(copied).isEqualTo(1);
            assertThat(text(c, "SELECT name FROM " + table)).isEqualTo("after the error");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aCopyTheClientAbortsEndsInAnErrorAndTheConnectionStaysUsable(Port port) throws Exception {
        String table = freshTable(port, "copy_client_abort");
        try (Connection c = port.connect(pgmux(), ROLE)) {
            CopyIn copyIn = copyApi(c).copyIn("COPY " + table + " (id, name) FROM STDIN");
            byte[] chunk = canonicalRows(5_000);
            copyIn.writeToCopy(chunk, 0, chunk.length);
            copyIn.flushCopy();
            // pgjdbc insists on exactly one ErrorResponse to its CopyFail: none, or more, throws here.
            copyIn.cancelCopy();
            assertThat(copyIn.isActive()).isFalse();
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows of the aborted COPY").isEqualTo("0");
            assertThat(text(c, "SELECT 'after the abort'")).isEqualTo("after the abort");
        }
        // The same on the wire: CopyFail gets Postgres' 57014 with the client's reason, then ReadyForQuery.
        try (WireClient wire = WireClient.login("copy-fail", "127.0.0.1", port.of(pgmux()),
                PgmuxHarness.tenantUser(ROLE), ROLE.password(), "postgres", Duration.ofSeconds(30))) {
            byte[] copyData = Wire.message('d', "1\tnever stored\n".getBytes(StandardCharsets.UTF_8));
            byte[] copyFail = Wire.message('f', Wire.cstringBytes("client gave up"));
            WireClient.Reply reply = wire.exchange(concat(Wire.query("COPY " + table + " (id, name) FROM STDIN"),
                    copyData, copyFail), 1);
            assertThat(reply.complete()).as("answered up to ReadyForQuery: %s", reply.messages()).isTrue();
            List<BackendMessage> errors = reply.messages().stream().filter(m -> m.tag() == 'E').toList();
            assertThat(errors).as("errors in %s", reply.messages()).hasSize(1);
            assertThat(errors.getFirst().sqlState()).isEqualTo("57014");
            assertThat(errors.getFirst().fields().get('M')).contains("client gave up");
            assertThat(reply.messages().getFirst().tag()).as("CopyInResponse first").isEqualTo('G');
            assertThat(WireClient.lastStatus(reply.messages())).as("idle after the failed COPY").isEqualTo('I');
            List<BackendMessage> count = wire.query("SELECT count(*) FROM " + table);
            assertThat(count.stream().filter(m -> m.tag() == 'D').map(m -> m.values().getFirst()).toList())
                    .containsExactly("0");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aLargeCopyOutOfVariableLengthRowsArrivesWhole(Port port) throws Exception {
        int rows = 20_000;
        // Mostly short rows, with one far larger than any read buffer every 200 rows.
        String sql = "COPY (SELECT i, repeat(chr(97 + i % 26), CASE WHEN i % 200 = 0 THEN 70000 + i ELSE (i * 7919) % 600 END)"
                + " FROM generate_series(1, " + rows + ") i) TO STDOUT";
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        long expectedBytes = 0;
        for (int i = 1; i <= rows; i++) {
            int length = i % 200 == 0 ? 70_000 + i : (i * 7919) % 600;
            byte[] line = (i + "\t" + String.valueOf((char) ('a' + i % 26)).repeat(length) + "\n")
                    .getBytes(StandardCharsets.US_ASCII);
            expected.update(line);
            expectedBytes += line.length;
        }
        try (Connection c = port.connect(pgmux(), ROLE)) {
            CountingDigest received = new CountingDigest();
            long copied = copyApi(c).copyOut(sql, received);
            assertThat(copied).as("rows COPY TO reported").isEqualTo(rows);
            assertThat(received.newlines).as("rows received").isEqualTo(rows);
            assertThat(received.bytes).as("bytes received").isEqualTo(expectedBytes);
            assertThat(HexFormat.of().formatHex(received.digest.digest())).as("checksum of what came back")
                    .isEqualTo(HexFormat.of().formatHex(expected.digest()));
            assertThat(text(c, "SELECT 'after the copy'")).isEqualTo("after the copy");
        }
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void aCopyInsideATransactionThatRollsBackLeavesNoRows(Port port) throws Exception {
        String table = freshTable(port, "copy_rollback");
        try (Connection c = port.connect(pgmux(), ROLE)) {
            c.setAutoCommit(false);
            long copied = copyApi(c).copyIn("COPY " + table + " (id, name) FROM STDIN",
                    new ByteArrayInputStream(canonicalRows(1_000)));
            assertThat(copied).isEqualTo(1_000);
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows seen inside the transaction").isEqualTo("1000");
            c.rollback();
            assertThat(text(c, "SELECT count(*) FROM " + table)).as("rows after the rollback").isEqualTo("0");
            c.setAutoCommit(true);
        }
        try (Connection other = port.connect(pgmux(), ROLE)) {
            assertThat(text(other, "SELECT count(*) FROM " + table)).as("rows another client sees").isEqualTo("0");
        }
    }

    /** A new empty table of this test and port, so the ports and reruns never share rows. */
    private String freshTable(Port port, String prefix) throws SQLException {
        String table = prefix + "_" + port.name().toLowerCase();
        try (Connection c = port.connect(pgmux(), ROLE); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
            st.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, name text)");
        }
        return table;
    }

    private static CopyManager copyApi(Connection c) throws SQLException {
        return c.unwrap(PGConnection.class).getCopyAPI();
    }

    /**
     * Rows in COPY's text format exactly as Postgres writes them back: NULLs, escaped tabs, backslashes
     * and newlines, and multi-byte characters among plain text of varied lengths.
     */
    private static byte[] canonicalRows(int count) {
        StringBuilder rows = new StringBuilder(count * 40);
        for (int i = 1; i <= count; i++) {
            rows.append(i).append('\t');
            switch (i % 7) {
                case 0 -> rows.append("\\N");
                case 1 -> rows.append("tab\\there, backslash\\\\ and newline\\n ").append(i);
                case 2 -> rows.append("caf\u00e9 \u20ac ").append(i).append(" \u65e5\u672c");
                default -> rows.append("name-").append("x".repeat(i % 61)).append(i);
            }
            rows.append('\n');
        }
        return rows.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    /** Digests and counts what COPY TO writes, without keeping it. */
    private static final class CountingDigest extends OutputStream {
        final MessageDigest digest;
        long bytes;
        long newlines;

        CountingDigest() throws Exception {
            digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            digest.update(b, off, len);
            bytes += len;
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    newlines++;
                }
            }
        }
    }
}
