package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GssEncRequestTest {
    // int32 8 | int32 80877104 (1234 << 16 | 5680)
    private static final byte[] BYTES = wire().int32(8).int32(80877104).build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(GssEncRequest.INSTANCE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodeStartup)).isSameAs(GssEncRequest.INSTANCE);
    }

    @Test
    void refusesTrailingBytes() {
        // int32 12 | int32 80877104 | int32 0
        byte[] bytes = wire().int32(12).int32(80877104).int32(0).build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid GSSENCRequest message: 4 trailing bytes");
    }
}
