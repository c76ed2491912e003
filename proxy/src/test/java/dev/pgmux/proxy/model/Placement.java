package dev.pgmux.proxy.model;

import dev.pgmux.proxy.testing.WireClient;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Decides which of pgmux's two servers the program's next batch lands on. */
public interface Placement extends AutoCloseable {

    /** Called between batches, when the program's client is between transactions. */
    void beforeBatch(boolean switchServer) throws IOException;

    /** A short name for reports. */
    String describe();

    @Override
    void close();

    static WireClient pgmuxClient(PgmuxHarness harness, String name, Duration readTimeout) throws IOException {
        return WireClient.login(name, "127.0.0.1", harness.server().transactionPort(),
                PgmuxHarness.tenantUser(TestPostgres.SCRAM), PgmuxHarness.password(TestPostgres.SCRAM), "postgres", readTimeout);
    }

    /**
     * Deterministic placement on a pool of exactly two servers: one of two holder clients always sits in an
     * open transaction on the server the program must not use, so the program gets the other one. Switching
     * is "the idle holder begins (taking the program's previous server, the only idle one), then the busy
     * holder commits (freeing the other)". Reproducible from the seed alone.
     */
    final class Controlled implements Placement {
        private final WireClient[] holders = new WireClient[2];
        private final PgmuxHarness harness;
        private int holding;

        public Controlled(PgmuxHarness harness) throws IOException {
            this.harness = harness;
            try {
                holders[0] = pgmuxClient(harness, "holder-0", Duration.ofSeconds(10));
                holders[1] = pgmuxClient(harness, "holder-1", Duration.ofSeconds(10));
                // Both servers opened and held, then one given back: the program gets that one.
                holders[0].query("BEGIN");
                holders[1].query("BEGIN");
                holders[1].query("COMMIT");
                holding = 0;
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void beforeBatch(boolean switchServer) throws IOException {
            if (!switchServer) {
                return;
            }
            int other = 1 - holding;
            try {
                holders[other].query("BEGIN");
                holders[holding].query("COMMIT");
            } catch (IOException e) {
                throw new IOException(e.getMessage() + "; pools: " + harness.server().runtime().pools().all().stream()
                        .map(pool -> pool.stats().toString()).toList(), e);
            }
            holding = other;
        }

        @Override
        public String describe() {
            return "controlled (pool of 2, a holder pins the server not to use)";
        }

        @Override
        public void close() {
            for (WireClient holder : holders) {
                if (holder != null) {
                    holder.close();
                }
            }
        }
    }

    /**
     * Background clients running simple queries through pgmux without pause while the program runs, so
     * its batches land on whichever server is free. Not reproducible batch for batch; counts its queries.
     */
    final class Background implements Placement {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicLong queries = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();
        private final List<WireClient> clients = new ArrayList<>();

        Background(PgmuxHarness harness, int count) throws IOException {
            try {
                for (int i = 0; i < count; i++) {
                    clients.add(pgmuxClient(harness, "background-" + i, Duration.ofSeconds(10)));
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
            for (WireClient client : clients) {
                Thread thread = Thread.ofPlatform().daemon().name(client.name()).start(() -> load(client));
                threads.add(thread);
            }
        }

        private void load(WireClient client) {
            String[] sqls = {"SELECT 1", "SELECT pg_backend_pid()", "SELECT 'background'"};
            int i = 0;
            try {
                while (!stop.get()) {
                    client.query(sqls[i++ % sqls.length]);
                    queries.incrementAndGet();
                }
            } catch (IOException | RuntimeException e) {
                if (!stop.get()) {
                    failure.compareAndSet(null, e);
                }
            }
        }

        @Override
        public void beforeBatch(boolean switchServer) {
            Throwable t = failure.get();
            if (t != null) {
                throw new IllegalStateException("a background client failed", t);
            }
        }

        long queries() {
            return queries.get();
        }

        @Override
        public String describe() {
            return "background (" + clients.size() + " clients running simple queries)";
        }

        @Override
        public void close() {
            stop.set(true);
            for (Thread thread : threads) {
                try {
                    thread.join(15_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            clients.forEach(WireClient::close);
            Throwable t = failure.get();
            if (t != null) {
                throw new UncheckedIOException("a background client failed",
                        t instanceof IOException io ? io : new IOException(t));
            }
        }
    }
}
