package dev.pgmux.protocol.message.frontend;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.Buffers.written;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;

/** Sync: no payload, and nothing to decode (pgmux forwards it as a raw frame). */
class SyncTest {
    // 'S' | int32 4
    private static final byte[] BYTES = wire().tag('S').int32(4).build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(Sync.INSTANCE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesIntoAGivenBuffer() {
        assertThat(written(out -> FrontendCodec.encode(Sync.INSTANCE, out))).isEqualTo(BYTES);
    }

    @Test
    void hasItsTag() {
        assertThat(Sync.TAG).isEqualTo((byte) 'S');
    }
}
