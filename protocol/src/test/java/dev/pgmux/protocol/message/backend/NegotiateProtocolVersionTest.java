package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NegotiateProtocolVersionTest {
    // 'v' | int32 26 | int32 newest minor 0 | int32 2 options | "_pq_.a\0" "_pq_.b\0"
    private static final byte[] BYTES = wire().tag('v').int32(26).int32(0).int32(2).cstring("_pq_.a").cstring("_pq_.b").build();
    private static final NegotiateProtocolVersion MESSAGE = new NegotiateProtocolVersion(0, List.of("_pq_.a", "_pq_.b"));

    @Test
    void encodes() {
        assertThat(drain(BackendCodec.encode(MESSAGE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, BackendCodec::decode)).isEqualTo(MESSAGE);
    }

    @Test
    void encodesAndDecodesNoOptions() {
        // 'v' | int32 12 | int32 0 | int32 0
        byte[] bytes = wire().tag('v').int32(12).int32(0).int32(0).build();
        NegotiateProtocolVersion message = new NegotiateProtocolVersion(0, List.of());

        assertThat(drain(BackendCodec.encode(message, ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
        assertThat(decoded(bytes, BackendCodec::decode)).isEqualTo(message);
    }

    @Test
    void refusesFewerOptionsThanCounted() {
        // 'v' | int32 19 | int32 0 | int32 2 | "_pq_.a\0"
        assertThatThrownBy(() -> decoded(wire().tag('v').int32(19).int32(0).int32(2).cstring("_pq_.a").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("string is not NUL-terminated");
    }

    @Test
    void refusesMoreOptionsThanCounted() {
        // 'v' | int32 26 | int32 0 | int32 1 | "_pq_.a\0" "_pq_.b\0"
        assertThatThrownBy(() -> decoded(wire().tag('v').int32(26).int32(0).int32(1).cstring("_pq_.a").cstring("_pq_.b").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid NegotiateProtocolVersion message: 7 trailing bytes");
    }

    @Test
    void refusesATruncatedHeader() {
        // 'v' | int32 8 | int32 0
        assertThatThrownBy(() -> decoded(wire().tag('v').int32(8).int32(0).build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid NegotiateProtocolVersion message: truncated");
    }
}
