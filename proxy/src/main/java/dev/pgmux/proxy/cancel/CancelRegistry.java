package dev.pgmux.proxy.cancel;

import dev.pgmux.protocol.message.backend.BackendKeyData;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands every client pgmux's own BackendKeyData (a random, unique process id and a random secret) and
 * finds the client a CancelRequest names. The secret is compared in constant time, so a cancel can only
 * reach the client that holds the key.
 */
public final class CancelRegistry<C> {
    private final ConcurrentHashMap<Integer, Entry<C>> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;

    private record Entry<C>(BackendKeyData key, C client) {}

    public CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /** Issues a new key for a client. */
    public BackendKeyData register(C client) {
        for (;;) {
            int processId = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            BackendKeyData key = new BackendKeyData(processId, random.nextInt());
            if (byProcessId.putIfAbsent(processId, new Entry<>(key, client)) == null) {
                return key;
            }
        }
    }

    public void unregister(BackendKeyData key) {
        Entry<C> entry = byProcessId.get(key.processId());
        if (entry != null && entry.key().equals(key)) {
            byProcessId.remove(key.processId(), entry);
        }
    }

    /** The client holding exactly this key, or null. */
    public C find(int processId, int secretKey) {
        Entry<C> entry = byProcessId.get(processId);
        if (entry == null) {
            return null;
        }
        return MessageDigest.isEqual(bytes(entry.key().secretKey()), bytes(secretKey)) ? entry.client() : null;
    }

    public int size() {
        return byProcessId.size();
    }

    private static byte[] bytes(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
