package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReadyForQueryTest {

    @ParameterizedTest
    @CsvSource({"I, IDLE", "T, IN_TRANSACTION", "E, FAILED_TRANSACTION"})
    void encodesAndDecodes(char status, ReadyForQuery message) {
        // 'Z' | int32 5 | status byte
        byte[] bytes = wire().tag('Z').int32(5).int8(status).build();

        assertThat(drain(BackendCodec.encode(message, ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
        assertThat(decoded(bytes, BackendCodec::decode)).isSameAs(message);
    }

    @Test
    void refusesAnUnknownStatus() {
        // 'Z' | int32 5 | 'X'
        assertThatThrownBy(() -> decoded(wire().tag('Z').int32(5).int8('X').build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid transaction status in ReadyForQuery: 88");
    }

    @Test
    void refusesAMissingStatus() {
        // 'Z' | int32 4
        assertThatThrownBy(() -> decoded(wire().tag('Z').int32(4).build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid ReadyForQuery message: truncated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'Z' | int32 6 | 'I' | 'I'
        assertThatThrownBy(() -> decoded(wire().tag('Z').int32(6).int8('I').int8('I').build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid ReadyForQuery message: 1 trailing bytes");
    }
}
