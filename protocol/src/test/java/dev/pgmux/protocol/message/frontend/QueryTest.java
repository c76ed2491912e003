package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.Buffers.written;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QueryTest {
    // 'Q' | int32 13 | "SELECT 1\0"
    private static final byte[] BYTES = wire().tag('Q').int32(13).cstring("SELECT 1").build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(new Query("SELECT 1"), ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesAfterWhatTheBufferAlreadyHolds() {
        // 'S' | int32 4 | 'Q' | int32 13 | "SELECT 1\0"
        byte[] bytes = written(out -> {
            FrontendCodec.encode(Sync.INSTANCE, out);
            FrontendCodec.encode(new Query("SELECT 1"), out);
        });

        assertThat(bytes).isEqualTo(wire().tag('S').int32(4).bytes(BYTES).build());
    }

    @Test
    void countsTheLengthInUtf8Bytes() {
        // 'Q' | int32 16 | "SELECT 'é'\0"   ('é' is 2 bytes: 0xC3 0xA9)
        byte[] bytes = wire().tag('Q').int32(16).text("SELECT '").int8(0xC3).int8(0xA9).text("'").int8(0).build();

        assertThat(drain(FrontendCodec.encode(new Query("SELECT 'é'"), ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
        assertThat(decoded(bytes, FrontendCodec::decodeQuery)).isEqualTo(new Query("SELECT 'é'"));
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodeQuery)).isEqualTo(new Query("SELECT 1"));
    }

    @Test
    void decodesSeveralStatements() {
        // 'Q' | int32 28 | "BEGIN; SELECT 1; COMMIT\0"
        byte[] bytes = wire().tag('Q').int32(28).cstring("BEGIN; SELECT 1; COMMIT").build();

        assertThat(decoded(bytes, FrontendCodec::decodeQuery)).isEqualTo(new Query("BEGIN; SELECT 1; COMMIT"));
    }

    @Test
    void refusesAQueryWithoutItsNul() {
        // 'Q' | int32 12 | "SELECT 1"
        assertThatThrownBy(() -> decoded(wire().tag('Q').int32(12).text("SELECT 1").build(), FrontendCodec::decodeQuery))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("string is not NUL-terminated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'Q' | int32 14 | "SELECT 1\0" | 'x'
        assertThatThrownBy(() -> decoded(wire().tag('Q').int32(14).cstring("SELECT 1").int8('x').build(), FrontendCodec::decodeQuery))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid Query message: 1 trailing bytes");
    }

    @Test
    void refusesAnotherMessage() {
        // 'P' | int32 13 | "SELECT 1\0"   (the start of a Parse)
        assertThatThrownBy(() -> decoded(wire().tag('P').int32(13).cstring("SELECT 1").build(), FrontendCodec::decodeQuery))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("expected Query message ('Q'), got 'P'");
    }
}
