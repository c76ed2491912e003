package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NoticeResponseTest {
    private static final String MESSAGE = "there is no transaction in progress";

    // 'N' | int32 67 | 'S' "WARNING\0" | 'V' "WARNING\0" | 'C' "25P01\0" | 'M' "there is no transaction in progress\0" | "\0"
    private static final byte[] BYTES = wire().tag('N').int32(67)
            .int8('S').cstring("WARNING")
            .int8('V').cstring("WARNING")
            .int8('C').cstring("25P01")
            .int8('M').cstring(MESSAGE)
            .int8(0).build();

    @Test
    void encodes() {
        assertThat(drain(BackendCodec.encode(NoticeResponse.warning("25P01", MESSAGE), ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        NoticeResponse decoded = (NoticeResponse) decoded(BYTES, BackendCodec::decode);

        assertThat(decoded).isEqualTo(NoticeResponse.warning("25P01", MESSAGE));
        assertThat(decoded.notice().severity()).isEqualTo("WARNING");
        assertThat(decoded.notice().code()).isEqualTo("25P01");
        assertThat(decoded.notice().message()).isEqualTo(MESSAGE);
    }

    @Test
    void decodesANoticeWithNoFields() {
        // 'N' | int32 5 | "\0"
        assertThat(decoded(wire().tag('N').int32(5).int8(0).build(), BackendCodec::decode))
                .isInstanceOfSatisfying(NoticeResponse.class, n -> assertThat(n.notice().fields()).isEmpty());
    }

    @Test
    void refusesAMissingTerminator() {
        // 'N' | int32 13 | 'S' "WARNING\0"   (no closing "\0")
        assertThatThrownBy(() -> decoded(wire().tag('N').int32(13).int8('S').cstring("WARNING").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("truncated");
    }
}
