package dev.pgmux.proxy;

import java.security.SecureRandom;
import java.security.SecureRandomSpi;
import java.util.Arrays;

/**
 * A SecureRandom that takes the system generator's output a block at a time and hands it out in order.
 *
 * <p>Every login draws a SCRAM nonce and a cancel key, three small draws on the event loop. Asked one by
 * one, the system generator (NativePRNG on Linux) takes its lock, often reads {@code /dev/urandom} and
 * mixes in SHA-1 output each time; with logins far apart that code is cold every time and cost about
 * 12 us of CPU per login. Buffered, a draw is a copy. The bytes are the system generator's own, each handed
 * out once and wiped from the block as it goes.
 */
public final class BufferedSecureRandom extends SecureRandom {
    static final int BLOCK_SIZE = 4096;

    private BufferedSecureRandom(SecureRandom source, int blockSize) {
        super(new Spi(source, blockSize), null);
    }

    /** Draws from the platform's default SecureRandom. */
    public static SecureRandom create() {
        return new BufferedSecureRandom(new SecureRandom(), BLOCK_SIZE);
    }

    /** Draws from the given generator, in blocks of the given size (for tests). */
    static SecureRandom over(SecureRandom source, int blockSize) {
        return new BufferedSecureRandom(source, blockSize);
    }

    private static final class Spi extends SecureRandomSpi {
        private final SecureRandom source;
        private final byte[] block;
        /** The first byte of {@link #block} not handed out yet. */
        private int next;

        Spi(SecureRandom source, int blockSize) {
            this.source = source;
            this.block = new byte[blockSize];
            this.next = blockSize; // filled at the first draw
        }

        @Override
        protected synchronized void engineNextBytes(byte[] bytes) {
            int done = 0;
            while (done < bytes.length) {
                if (next == block.length) {
                    source.nextBytes(block);
                    next = 0;
                }
                int n = Math.min(bytes.length - done, block.length - next);
                System.arraycopy(block, next, bytes, done, n);
                Arrays.fill(block, next, next + n, (byte) 0);
                next += n;
                done += n;
            }
        }

        @Override
        protected void engineSetSeed(byte[] seed) {
            source.setSeed(seed);
        }

        @Override
        protected byte[] engineGenerateSeed(int numBytes) {
            return source.generateSeed(numBytes);
        }
    }
}
