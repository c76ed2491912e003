package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParameterStatusTest {
    // 'S' | int32 25 | "client_encoding\0" | "UTF8\0"
    private static final byte[] BYTES = wire().tag('S').int32(25).cstring("client_encoding").cstring("UTF8").build();
    private static final ParameterStatus MESSAGE = new ParameterStatus("client_encoding", "UTF8");

    @Test
    void encodes() {
        assertThat(drain(BackendCodec.encode(MESSAGE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, BackendCodec::decode)).isEqualTo(MESSAGE);
    }

    @Test
    void decodesAnEmptyValue() {
        // 'S' | int32 17 | "search_path\0" | "\0"
        byte[] bytes = wire().tag('S').int32(17).cstring("search_path").cstring("").build();

        assertThat(decoded(bytes, BackendCodec::decode)).isEqualTo(new ParameterStatus("search_path", ""));
    }

    @Test
    void refusesAValueWithoutItsNul() {
        // 'S' | int32 24 | "client_encoding\0" | "UTF8"
        assertThatThrownBy(() -> decoded(wire().tag('S').int32(24).cstring("client_encoding").text("UTF8").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("string is not NUL-terminated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'S' | int32 26 | "client_encoding\0" | "UTF8\0" | 'x'
        assertThatThrownBy(() -> decoded(wire().tag('S').int32(26).cstring("client_encoding").cstring("UTF8").int8('x').build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid ParameterStatus message: 1 trailing bytes");
    }
}
