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
 *
 * <p>A process id held by one client (always in transaction mode) maps to its entry itself; only one held by
 * several maps to an array of entries: an idle client costs no array here.
 */
public final class CancelRegistry<C> {
    /** Process id -> an {@link Entry}, or an {@code Entry[]} of two or more. */
    private final ConcurrentHashMap<Integer, Object> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;

    private record Entry<C>(BackendKeyData key, C client) {}

    public CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /** Bits of a process id below an instance's key prefix: Linux's process ids are below 2^22. */
    public static final int PREFIX_SHIFT = 22;
    /** No prefix, the whole range of process ids (a single instance). */
    public static final int NO_CLUSTER = -1;

    /**
     * With several instances, the instance's prefix in the process ids it makes up (1 to 511, bits 22 to 30), so
     * that another instance receiving a cancel for one of them knows whose it is; 0 while the instance has none
     * (ids below 2^22, like a real server's, which every instance is asked about).
     */
    private volatile int keyPrefix = NO_CLUSTER;

    /** See {@link #keyPrefix}; keys issued before keep theirs. */
    public void keyPrefix(int prefix) {
        this.keyPrefix = prefix;
    }

    /** The instance whose prefix a process id carries (1 to 511), or 0: none (a real server's, or no prefix yet). */
    public static int keyPrefixOf(int processId) {
        return processId >>> PREFIX_SHIFT;
    }

    /** Issues a new key with a made-up process id that no other client has. */
    public BackendKeyData register(C client) {
        for (;;) {
            int prefix = keyPrefix;
            int processId = prefix == NO_CLUSTER ? random.nextInt(Integer.MAX_VALUE - 1) + 1
                    : (prefix << PREFIX_SHIFT) | (random.nextInt((1 << PREFIX_SHIFT) - 1) + 1);
            BackendKeyData key = new BackendKeyData(processId, random.nextInt());
            if (byProcessId.putIfAbsent(processId, new Entry<>(key, client)) == null) {
                return key;
            }
        }
    }

    /** Issues a new key with the given process id and a random secret no other holder of that id has. */
    public BackendKeyData register(C client, int processId) {
        BackendKeyData[] issued = new BackendKeyData[1];
        byProcessId.compute(processId, (id, existing) -> {
            Entry<C>[] current = entriesOf(existing);
            BackendKeyData key;
            do {
                key = new BackendKeyData(processId, random.nextInt());
            } while (holds(current, key.secretKey()));
            issued[0] = key;
            Entry<C> added = new Entry<>(key, client);
            if (current.length == 0) {
                return added;
            }
            Entry<C>[] grown = Arrays.copyOf(current, current.length + 1);
            grown[current.length] = added;
            return grown;
        });
        return issued[0];
    }

    public void unregister(BackendKeyData key) {
        Object existing = byProcessId.get(key.processId());
        if (existing instanceof Entry<?> entry && entry.key().equals(key) && byProcessId.remove(key.processId(), existing)) {
            return; // the common case, a process id of its own: no copy, no lambda
        }
        byProcessId.computeIfPresent(key.processId(), (id, current) -> {
            Entry<C>[] kept = Arrays.stream(entriesOf(current)).filter(e -> !e.key().equals(key))
                    .toArray(CancelRegistry::newArray);
            return switch (kept.length) {
                case 0 -> null;
                case 1 -> kept[0];
                default -> kept;
            };
        });
    }

    /** The client holding exactly this key, or null. Every secret under the process id is compared. */
    public C find(int processId, int secretKey) {
        Object held = byProcessId.get(processId);
        if (held == null) {
            return null;
        }
        Entry<C>[] entries = entriesOf(held);
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
        return byProcessId.values().stream().mapToInt(held -> entriesOf(held).length).sum();
    }

    private boolean holds(Entry<C>[] entries, int secret) {
        for (Entry<C> entry : entries) {
            if (entry.key().secretKey() == secret) {
                return true;
            }
        }
        return false;
    }

    /** What the map holds for a process id (null, one entry or several) as an array. */
    @SuppressWarnings("unchecked")
    private static <C> Entry<C>[] entriesOf(Object held) {
        if (held == null) {
            return newArray(0);
        }
        if (held instanceof Entry<?> one) {
            Entry<C>[] entries = newArray(1);
            entries[0] = (Entry<C>) one;
            return entries;
        }
        return (Entry<C>[]) held;
    }

    @SuppressWarnings("unchecked")
    private static <C> Entry<C>[] newArray(int size) {
        return (Entry<C>[]) new Entry<?>[size];
    }

    private static byte[] bytes(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
