package dev.pgmux.protocol.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The leak check itself: a buffer dropped without release must be seen, or the check proves nothing. */
class LeakDetectionTest {
    private static final String HINT = "deliberate leak by LeakDetectionTest";

    @Test
    void isInstalledBeforeByteBufIsInitialised() {
        assertThat(LeakDetection.effective()).isTrue();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void recordsABufferThatWasNeverReleased() {
        Predicate<LeakDetection.Leak> ours = leak -> leak.records().contains(HINT);
        try {
            leakOneBuffer();
            assertThat(LeakDetection.awaitLeak(ours, 5_000))
                    .as("the leak detector reported the dropped buffer within 5 s")
                    .isTrue();
            assertThat(LeakDetection.leaks()).filteredOn(ours)
                    .singleElement()
                    .satisfies(leak -> assertThat(leak.resourceType()).isEqualTo("ByteBuf"));
        } finally {
            // Only this test's leak: anything else must still fail the class.
            LeakDetection.forget(ours);
        }
    }

    /** Allocates, touches with a recognisable hint and drops the buffer; no reference survives the call. */
    private static void leakOneBuffer() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer(16);
        buf.writeLong(42);
        buf.touch(HINT);
    }
}
