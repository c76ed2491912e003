package dev.pgmux.proxy.features;

import static dev.pgmux.proxy.testing.Pgjdbc.cancelSecret;
import static dev.pgmux.proxy.testing.Pgjdbc.running;
import static dev.pgmux.proxy.testing.Pgjdbc.sendCancel;
import static dev.pgmux.proxy.testing.Pgjdbc.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A server whose client let it go while a cancel to it was still on its way is handed to nobody until that
 * cancel can no longer reach it: otherwise the late cancel would stop the next client's statement. The
 * upstream here is Postgres behind a relay that holds cancel requests until the test lets them through.
 */
@Timeout(60)
class CancelInFlightTest {
    private static final TestRole ROLE = TestPostgres.SCRAM;

    @ParameterizedTest
    @EnumSource(Port.class)
    void aServerWithACancelInFlightWaitsUntilTheCancelIsDone(Port port) throws Exception {
        try (CancelHoldingRelay relay = new CancelHoldingRelay();
             PgmuxHarness pgmux = PgmuxHarness.start(t -> t.withPoolSize(1)
                     .withUpstream(UpstreamConfig.of("127.0.0.1", relay.port())))) {
            String first = "SELECT pg_sleep(1) /* cancelled late on " + port + " */";
            String next = "SELECT pg_sleep(0.5) /* the next user on " + port + " */";
            Connection a = port.connect(pgmux, ROLE);
            try (Statement st = a.createStatement()) {
                int pid = a.unwrap(PGConnection.class).getBackendPID();
                int secret = cancelSecret(a);
                CompletableFuture<Void> query = CompletableFuture.runAsync(() -> execute(st, first));
                Wait.until("the first statement running upstream", () -> running(first) == 1);
                sendCancel(port.of(pgmux), pid, secret); // pgmux takes it; the relay holds it on the way
                Wait.until("the cancel at the relay", () -> relay.held() == 1);
                query.get(10, TimeUnit.SECONDS); // the statement ends normally: the cancel has not arrived
            }
            if (port == Port.SESSION) {
                a.close(); // a session client keeps its server until it leaves
            }
            Wait.until("the server released with the cancel in flight", Wait.DEFAULT, () -> pgmux.stats(ROLE).cancelling() == 1,
                    () -> String.valueOf(pgmux.stats(ROLE)));

            CompletableFuture<String> nextClient = CompletableFuture.supplyAsync(() -> {
                try (Connection b = port.connect(pgmux, ROLE)) {
                    return text(b, next);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Wait.until("the next client waiting for the only server", Wait.DEFAULT, () -> pgmux.stats(ROLE).waiting() == 1,
                    () -> String.valueOf(pgmux.stats(ROLE)));
            assertThat(running(next)).as("nobody runs on the server while the cancel is in flight").isZero();

            relay.release();
            assertThat(nextClient.get(15, TimeUnit.SECONDS)).as("the next client's statement completed normally").isEmpty();
            if (port == Port.TRANSACTION) {
                a.close();
            }
            pgmux.awaitQuiet(ROLE);
        }
    }

    private static void execute(Statement st, String sql) {
        try {
            st.executeQuery(sql).close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Relays connections to the test Postgres; a CancelRequest is held (its connection open) until
     * {@link #release}, then passed on, and its connection closes once Postgres closes it.
     */
    private static final class CancelHoldingRelay implements AutoCloseable {
        private static final int CANCEL_REQUEST_CODE = 80877102;
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final CountDownLatch released = new CountDownLatch(1);
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final List<Thread> threads = new CopyOnWriteArrayList<>();
        private volatile int held;

        CancelHoldingRelay() throws IOException {
            threads.add(Thread.ofVirtual().start(this::accept));
        }

        int port() {
            return listener.getLocalPort();
        }

        int held() {
            return held;
        }

        void release() {
            released.countDown();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    sockets.add(client);
                    threads.add(Thread.ofVirtual().start(() -> relay(client)));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void relay(Socket client) {
            try (client; Socket upstream = new Socket(TestPostgres.get().host(), TestPostgres.get().port())) {
                sockets.add(upstream);
                DataInputStream in = new DataInputStream(client.getInputStream());
                byte[] head = new byte[8];
                in.readFully(head);
                if (ByteBuffer.wrap(head).getInt(4) == CANCEL_REQUEST_CODE) {
                    held++;
                    released.await(30, TimeUnit.SECONDS);
                }
                upstream.getOutputStream().write(head);
                Thread back = Thread.ofVirtual().start(() -> pipe(upstream, client));
                threads.add(back);
                pipe(client, upstream);
                back.join();
            } catch (IOException | InterruptedException e) {
                // a side closed: the relay of this connection is over
            }
        }

        private static void pipe(Socket from, Socket to) {
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                byte[] buffer = new byte[16 * 1024];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                }
                to.shutdownOutput();
            } catch (IOException e) {
                // the other side is gone
            }
        }

        @Override
        public void close() throws Exception {
            released.countDown();
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
            for (Thread t : threads) {
                t.join(5_000);
            }
        }
    }
}
