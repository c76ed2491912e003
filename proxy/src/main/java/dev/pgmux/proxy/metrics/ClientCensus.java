package dev.pgmux.proxy.metrics;

import dev.pgmux.config.PoolMode;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientRegistry;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.pool.ServerPool;

import java.util.HashMap;
import java.util.Map;

/**
 * Clients counted by pool, mode and state, in one pass over every client. Clients keep only their own state
 * (no counter shared between event loops on the hot path); whoever reads the counts pays for the pass: the
 * admin console takes a fresh {@link Snapshot}, the metrics one at most {@value #MAX_AGE_MILLIS} ms old.
 */
public final class ClientCensus {
    /** The load-test sweep waits a little longer than this before it trusts a zero (PoolSizeReload). */
    static final long MAX_AGE_MILLIS = 500;
    private static final int STATES = ClientState.values().length;
    private static final int SLOTS = PoolMode.values().length * STATES;

    /** The clients of one moment. */
    public static final class Snapshot {
        private final Map<ServerPool, int[]> byPool = new HashMap<>();
        private final int[] total = new int[SLOTS];

        private Snapshot() {}

        /** The clients of {@code pool} in this mode and state. */
        public int count(ServerPool pool, PoolMode mode, ClientState state) {
            int[] counts = byPool.get(pool);
            return counts == null ? 0 : counts[slot(mode, state)];
        }

        /** Every client of the process in this mode and state, in a pool or not. */
        public int count(PoolMode mode, ClientState state) {
            return total[slot(mode, state)];
        }

        /** The pools with at least one client counted. */
        public Iterable<ServerPool> pools() {
            return byPool.keySet();
        }
    }

    private final ClientRegistry clients;
    private Snapshot last;
    private long takenAtNanos;

    ClientCensus(ClientRegistry clients) {
        this.clients = clients;
    }

    /** A fresh count of {@code clients}. */
    public static Snapshot take(ClientRegistry clients) {
        Snapshot snapshot = new Snapshot();
        for (ClientConnection client : clients.all()) {
            int slot = slot(client.mode(), client.state());
            snapshot.total[slot]++;
            ServerPool pool = client.pool();
            if (pool != null) {
                snapshot.byPool.computeIfAbsent(pool, p -> new int[SLOTS])[slot]++;
            }
        }
        return snapshot;
    }

    private static int slot(PoolMode mode, ClientState state) {
        return mode.ordinal() * STATES + state.ordinal();
    }

    /** A count at most {@value #MAX_AGE_MILLIS} ms old: what a scrape's gauges read. */
    synchronized Snapshot recent() {
        long now = System.nanoTime();
        if (last == null || now - takenAtNanos >= MAX_AGE_MILLIS * 1_000_000) {
            last = take(clients);
            takenAtNanos = now;
        }
        return last;
    }
}
