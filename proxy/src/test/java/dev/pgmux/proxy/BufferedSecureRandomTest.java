package dev.pgmux.proxy;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class BufferedSecureRandomTest {

    /** A source whose output is 0, 1, 2, ... (mod 256), counting how often it is asked. */
    private static final class CountingSource extends SecureRandom {
        final AtomicInteger draws = new AtomicInteger();
        private int value;

        @Override
        public synchronized void nextBytes(byte[] bytes) {
            draws.incrementAndGet();
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) value++;
            }
        }
    }

    @Test
    void handsOutTheSourcesBytesInOrderAcrossBlocks() {
        CountingSource source = new CountingSource();
        SecureRandom random = BufferedSecureRandom.over(source, 16);

        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        for (int size : new int[] {3, 18, 1, 16, 40, 4}) { // straddles block ends, spans several blocks
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            seen.writeBytes(bytes);
        }

        byte[] all = seen.toByteArray();
        assertThat(all).hasSize(82);
        for (int i = 0; i < all.length; i++) {
            assertThat(all[i]).as("byte %d", i).isEqualTo((byte) i); // nothing skipped, nothing repeated
        }
        assertThat(source.draws.get()).isEqualTo(6); // ceil(82 / 16) blocks, not one draw per call
    }

    @Test
    void intsAndKeysAreDrawnFromTheBlockToo() {
        CountingSource source = new CountingSource();
        SecureRandom random = BufferedSecureRandom.over(source, 64);

        int first = random.nextInt(); // SecureRandom.next(32) takes 4 bytes, big-endian
        int second = random.nextInt();

        assertThat(first).isEqualTo(0x00010203);
        assertThat(second).isEqualTo(0x04050607);
        assertThat(source.draws.get()).isEqualTo(1);
    }

    @Test
    void theDefaultSourceGivesDistinctNonces() {
        SecureRandom random = BufferedSecureRandom.create();
        Set<String> nonces = new HashSet<>();
        for (int i = 0; i < 2_000; i++) { // more than one 4 KiB block of 18-byte nonces
            byte[] nonce = new byte[18];
            random.nextBytes(nonce);
            nonces.add(java.util.HexFormat.of().formatHex(nonce));
        }
        assertThat(nonces).hasSize(2_000);
    }
}
