package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.cancelSecret;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Large replies of rows of varying length, as query results and as COPY, over TLS on both ports: each
 * arrives whole, whether the client stays or leaves right after it; and every server goes back to the pool.
 * Over TLS a client's channel reports that it cannot take more from a task that may run only after the
 * client left; a server paused by that report must still be reset and reused.
 */
@Timeout(120)
abstract class TlsRepliesCases {
    static final TestRole ROLE = TestPostgres.SCRAM;

    /**
     * The pgmux under test, which takes TLS clients (plaintext upstream: {@link TlsRepliesTest}; TLS upstream
     * too: {@link UpstreamTlsRepliesTest}).
     */
    abstract PgmuxHarness pgmux();

    /** {@code rows} rows of 0 to 7000 random bytes: from tens of kilobytes to about 700 kB in all. */
    private static String rows(int rows) {
        return "SELECT repeat('x', (random() * 7000)::int) FROM generate_series(1, " + rows + ")";
    }

    private Connection connect(Port port) throws SQLException {
        Properties tls = new Properties();
        tls.setProperty("sslmode", "require");
        tls.setProperty("socketTimeout", "20"); // a reply that never comes fails the test instead of hanging it
        return port.connect(pgmux(), ROLE, tls);
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void largeVariableRepliesArriveWholeOverTlsOnOneConnection(Port port) throws Exception {
        try (Connection c = connect(port)) {
            for (int i = 0; i < 30; i++) {
                int rows = 20 + 9 * i; // up to about 280 rows, about 1 MB
                assertThat(read(c, rows, i % 2 == 0)).as("rows of reply %d", i).isEqualTo(rows);
            }
        }
        awaitNoServerInUse();
    }

    @ParameterizedTest
    @EnumSource(Port.class)
    void clientsThatLeaveRightAfterALargeReplyGiveTheirServerBack(Port port) throws Exception {
        for (int i = 0; i < 25; i++) {
            try (Connection c = connect(port)) {
                assertThat(read(c, 20 + 4 * i, i % 2 == 0)).isEqualTo(20 + 4 * i);
            }
            awaitNoServerInUse();
        }
    }

    /** The deterministic form of the race: the server paused for its client (backpressure) as the client leaves. */
    @Test
    void aServerPausedForItsClientIsResetAndReusedWhenTheClientLeaves() throws Exception {
        try (Connection c = connect(Port.SESSION)) {
            assertThat(read(c, 20, false)).isEqualTo(20);
            ServerConnection server = pgmux().server().runtime().cancels()
                    .find(c.unwrap(PGConnection.class).getBackendPID(), cancelSecret(c)).server();
            // On the server's own thread, so that no read asked for before stays pending.
            server.channel().eventLoop().submit(() -> server.setAutoRead(false)).sync();
        }
        awaitNoServerInUse();
        try (Connection next = connect(Port.SESSION)) {
            assertThat(read(next, 20, true)).isEqualTo(20);
        }
    }

    private void awaitNoServerInUse() {
        Wait.until("every server back in the pool", () -> {
            ServerPool.Stats stats = pgmux().stats(ROLE);
            return stats.active() == 0 && stats.connecting() == 0;
        }, () -> String.valueOf(pgmux().pool(ROLE).map(ServerPool::stats).orElse(null)));
    }

    /** The reply as COPY TO STDOUT or as a query result, read to its end; returns how many rows came. */
    private static long read(Connection c, int rows, boolean copy) throws Exception {
        if (copy) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long copied = c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (" + rows(rows) + ") TO STDOUT", out);
            assertThat(out.toString().lines().count()).as("lines of the COPY").isEqualTo(copied);
            return copied;
        }
        long count = 0;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(rows(rows))) {
            while (rs.next()) {
                assertThat(rs.getString(1)).matches("x*");
                count++;
            }
        }
        return count;
    }
}
