package dev.pgmux.proxy.cancel;

import dev.pgmux.protocol.message.backend.BackendKeyData;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands every client a BackendKeyData whose secret is pgmux's own (random) and finds the client a
 * CancelRequest names. The process id is either random and unique (transaction mode, where a client has
 * no server of its own) or the real one of the client's server (session mode, so that the client's idea of
 * its pid matches {@code pg_backend_pid()}); several clients may then share a process id, from different
 * upstreams, and the secret tells them apart. Secrets are compared in constant time, so a cancel can only
 * reach the client that holds the key.
 */
public final class CancelRegistry<C> {
    private final ConcurrentHashMap<Integer, Entry<C>[]> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;

    private record Entry<C>(BackendKeyData key, C client) {}

    public CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /** Issues a new key with a random process id that no other client has. */
    public BackendKeyData register(C client) {
        for (;;) {
            int processId = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            BackendKeyData key = new BackendKeyData(processId, random.nextInt());
            if (byProcessId.putIfAbsent(processId, entries(new Entry<>(key, client))) == null) {
                return key;
            }
        }
    }

    /** Issues a new key with the given process id and a random secret no other holder of that id has. */
    public BackendKeyData register(C client, int processId) {
        BackendKeyData[] issued = new BackendKeyData[1];
        byProcessId.compute(processId, (id, existing) -> {
            Entry<C>[] current = existing == null ? entries() : existing;
            BackendKeyData key;
            do {
                key = new BackendKeyData(processId, random.nextInt());
            } while (holds(current, key.secretKey()));
            issued[0] = key;
            Entry<C>[] grown = Arrays.copyOf(current, current.length + 1);
            grown[current.length] = new Entry<>(key, client);
            return grown;
        });
        return issued[0];
    }

    public void unregister(BackendKeyData key) {
        Entry<C>[] entries = byProcessId.get(key.processId());
        if (entries != null && entries.length == 1 && entries[0].key().equals(key)
                && byProcessId.remove(key.processId(), entries)) {
            return; // the common case, a process id of its own: no copy, no lambda
        }
        byProcessId.computeIfPresent(key.processId(), (id, existing) -> without(existing, key));
    }

    /** {@code entries} without the one holding {@code key}, or null when none is left. */
    private static <C> Entry<C>[] without(Entry<C>[] entries, BackendKeyData key) {
        Entry<C>[] kept = newArray(entries.length);
        int n = 0;
        for (Entry<C> entry : entries) {
            if (!entry.key().equals(key)) {
                kept[n++] = entry;
            }
        }
        return n == 0 ? null : n == entries.length ? entries : Arrays.copyOf(kept, n);
    }

    /** The client holding exactly this key, or null. Every secret under the process id is compared. */
    public C find(int processId, int secretKey) {
        Entry<C>[] entries = byProcessId.get(processId);
        if (entries == null) {
            return null;
        }
        C found = null;
        for (Entry<C> entry : entries) {
            if (MessageDigest.isEqual(bytes(entry.key().secretKey()), bytes(secretKey))) {
                found = entry.client();
            }
        }
        return found;
    }

    /** Clients holding a key. */
    public int size() {
        return byProcessId.values().stream().mapToInt(e -> e.length).sum();
    }

    private boolean holds(Entry<C>[] entries, int secret) {
        for (Entry<C> entry : entries) {
            if (entry.key().secretKey() == secret) {
                return true;
            }
        }
        return false;
    }

    @SafeVarargs
    private static <C> Entry<C>[] entries(Entry<C>... entries) {
        return entries;
    }

    @SuppressWarnings("unchecked")
    private static <C> Entry<C>[] newArray(int size) {
        return (Entry<C>[]) new Entry<?>[size];
    }

    private static byte[] bytes(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
