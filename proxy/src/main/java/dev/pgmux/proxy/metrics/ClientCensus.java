package dev.pgmux.proxy.metrics;

import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientRegistry;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.client.PoolingMode;
import dev.pgmux.proxy.pool.ServerPool;

import java.util.HashMap;
import java.util.Map;

/**
 * Clients counted by pool, mode and state, in one pass over every client, at most every
 * {@value #MAX_AGE_MILLIS} ms. Clients keep only their own state (no counter shared between event loops on
 * the hot path); a scrape pays for the count instead.
 */
final class ClientCensus {
    /** The load-test sweep waits a little longer than this before it trusts a zero (PoolSizeReload). */
    static final long MAX_AGE_MILLIS = 500;
    private static final int STATES = ClientState.values().length;

    private final ClientRegistry clients;
    private Map<ServerPool, int[]> byPool = Map.of();
    private int[] total = new int[PoolingMode.values().length * STATES];
    private long takenAtNanos;
    private boolean taken;

    ClientCensus(ClientRegistry clients) {
        this.clients = clients;
    }

    synchronized int count(ServerPool pool, PoolingMode mode, ClientState state) {
        refresh();
        int[] counts = byPool.get(pool);
        return counts == null ? 0 : counts[mode.ordinal() * STATES + state.ordinal()];
    }

    /** Every client of the process in this mode and state, in a pool or not. */
    synchronized int count(PoolingMode mode, ClientState state) {
        refresh();
        return total[mode.ordinal() * STATES + state.ordinal()];
    }

    private void refresh() {
        long now = System.nanoTime();
        if (taken && now - takenAtNanos < MAX_AGE_MILLIS * 1_000_000) {
            return;
        }
        Map<ServerPool, int[]> counted = new HashMap<>();
        int[] all = new int[total.length];
        for (ClientConnection client : clients.all()) {
            int slot = client.mode().ordinal() * STATES + client.state().ordinal();
            all[slot]++;
            ServerPool pool = client.pool();
            if (pool != null) {
                counted.computeIfAbsent(pool, p -> new int[all.length])[slot]++;
            }
        }
        byPool = counted;
        total = all;
        takenAtNanos = now;
        taken = true;
    }
}
