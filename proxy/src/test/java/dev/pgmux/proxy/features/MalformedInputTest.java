package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

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

import java.sql.Connection;
import java.time.Duration;

/**
 * A malformed message gets 08P01 and a close for the client that sent it, whatever that client was waiting
 * for, and leaves no server pinned: every pool and every other client go on as before.
 */
@Timeout(60)
class MalformedInputTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;
    /** Describe with a subtype that is neither 'S' nor 'P'. */
    private static final byte[] BAD_DESCRIBE = Wire.message('D', new byte[] {'Z', 0});

    @ParameterizedTest
    @EnumSource(Port.class)
    void aMalformedMessageWhileWaitingForANewServerGets08P01AndFreesTheServer(Port port) throws Exception {
        try (PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(2))) {
            // Another client holds the only server there is, inside a transaction: the next one needs a new server.
            try (Connection holder = port.connect(pgmux, ROLE)) {
                holder.setAutoCommit(false);
                assertThat(text(holder, "SELECT 1")).isEqualTo("1");
                byte[] batch = Wire.concat(Wire.query("SELECT 2"), BAD_DESCRIBE, Wire.message('S', new byte[0]));
                WireClient client;
                if (port == Port.SESSION) {
                    // In session mode the server is needed at login: the batch arrives while the client waits.
                    client = WireClient.login("bad", "127.0.0.1", port.of(pgmux), PgmuxHarness.tenantUser(ROLE),
                            ROLE.password(), "postgres", Duration.ofSeconds(20), batch);
                } else {
                    client = WireClient.login("bad", "127.0.0.1", port.of(pgmux), PgmuxHarness.tenantUser(ROLE),
                            ROLE.password(), "postgres", Duration.ofSeconds(20));
                    client.send(batch);
                }
                try (client) {
                    WireClient.Reply reply = client.readUntilReady(2);
                    assertThat(reply.messages()).as("an 08P01 error").anyMatch(m -> m.tag() == 'E' && "08P01".equals(m.sqlState()));
                    if (port == Port.TRANSACTION) {
                        // pgmux itself must understand the message to place it: the client is told and closed.
                        assertThat(reply.failure()).as("closed after the error").contains("connection lost");
                        assertThat(reply.messages().getLast().tag()).isEqualTo('E');
                    } else {
                        // Relayed as it is: Postgres answers it as an error that ends at the Sync, and goes on.
                        assertThat(reply.complete()).as("answered up to the Sync: %s", reply.messages()).isTrue();
                    }
                }
                holder.commit();
            }
            pgmux.awaitQuiet(ROLE);
            try (Connection next = port.connect(pgmux, ROLE)) {
                assertThat(text(next, "SELECT 'still serving'")).isEqualTo("still serving");
            }
            assertThat(pgmux.stats(ROLE).open()).isLessThanOrEqualTo(2);
        }
    }
}
