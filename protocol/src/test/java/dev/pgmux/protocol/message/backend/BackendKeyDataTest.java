package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendKeyDataTest {
    // 'K' | int32 12 | int32 process id 31337 | int32 secret key -889275714
    private static final byte[] BYTES = wire().tag('K').int32(12).int32(31337).int32(0xCAFEBABE).build();
    private static final BackendKeyData MESSAGE = new BackendKeyData(31337, 0xCAFEBABE);

    @Test
    void encodes() {
        assertThat(drain(BackendCodec.encode(MESSAGE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, BackendCodec::decode)).isEqualTo(MESSAGE);
    }

    @Test
    void readsTheFirstFourBytesOfALongerProtocol32Key() {
        // 'K' | int32 16 | int32 31337 | int32 0xCAFEBABE | int32 1   (an 8-byte key)
        byte[] bytes = wire().tag('K').int32(16).int32(31337).int32(0xCAFEBABE).int32(1).build();

        assertThat(decoded(bytes, BackendCodec::decode)).isEqualTo(MESSAGE);
    }

    @Test
    void refusesATruncatedKey() {
        // 'K' | int32 8 | int32 31337
        assertThatThrownBy(() -> decoded(wire().tag('K').int32(8).int32(31337).build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid BackendKeyData message: truncated");
    }

    @Test
    void doesNotPrintTheSecretKey() {
        assertThat(MESSAGE.toString()).contains("31337").doesNotContain(String.valueOf(0xCAFEBABE));
    }
}
