package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CancelRequestTest {
    // int32 16 | int32 80877102 (1234 << 16 | 5678) | int32 process id 4242 | int32 secret key -559038737
    private static final byte[] BYTES = wire().int32(16).int32(80877102).int32(4242).int32(0xDEADBEEF).build();
    private static final CancelRequest MESSAGE = new CancelRequest(4242, 0xDEADBEEF);

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(MESSAGE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodeStartup)).isEqualTo(MESSAGE);
    }

    @Test
    void refusesATruncatedKey() {
        // int32 12 | int32 80877102 | int32 4242   (no secret key)
        byte[] bytes = wire().int32(12).int32(80877102).int32(4242).build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid CancelRequest message: truncated");
    }

    @Test
    void doesNotPrintTheSecretKey() {
        assertThat(MESSAGE.toString()).contains("4242").doesNotContain(String.valueOf(0xDEADBEEF));
        assertThat(new PeerCancelRequest(4242, 0xDEADBEEF).toString()).contains("4242")
                .doesNotContain(String.valueOf(0xDEADBEEF));
    }

    @Test
    void anInstancesCancelForItsPeersHasACodeOfItsOwn() {
        // int32 16 | int32 80877101 (1234 << 16 | 5677) | int32 process id 4242 | int32 secret key
        byte[] bytes = wire().int32(16).int32(80877101).int32(4242).int32(0xDEADBEEF).build();
        PeerCancelRequest message = new PeerCancelRequest(4242, 0xDEADBEEF);
        assertThat(drain(FrontendCodec.encode(message, ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
        assertThat(decoded(bytes, FrontendCodec::decodeStartup)).isEqualTo(message);
        assertThatThrownBy(() -> decoded(wire().int32(12).int32(80877101).int32(4242).build(), FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class).hasMessage("invalid PeerCancelRequest message: truncated");
    }
}
