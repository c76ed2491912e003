package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SslRequestTest {
    // int32 8 | int32 80877103 (1234 << 16 | 5679)
    private static final byte[] BYTES = wire().int32(8).int32(80877103).build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(SslRequest.INSTANCE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodeStartup)).isSameAs(SslRequest.INSTANCE);
    }

    @Test
    void refusesTrailingBytes() {
        // int32 9 | int32 80877103 | 'x'
        byte[] bytes = wire().int32(9).int32(80877103).int8('x').build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid SSLRequest message: 1 trailing bytes");
    }
}
