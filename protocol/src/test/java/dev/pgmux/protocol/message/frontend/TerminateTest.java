package dev.pgmux.protocol.message.frontend;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.Buffers.written;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;

/** Terminate: no payload, and nothing to decode (pgmux forwards it as a raw frame). */
class TerminateTest {
    // 'X' | int32 4
    private static final byte[] BYTES = wire().tag('X').int32(4).build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(Terminate.INSTANCE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesIntoAGivenBuffer() {
        assertThat(written(out -> FrontendCodec.encode(Terminate.INSTANCE, out))).isEqualTo(BYTES);
    }

    @Test
    void hasItsTag() {
        assertThat(Terminate.TAG).isEqualTo((byte) 'X');
    }
}
