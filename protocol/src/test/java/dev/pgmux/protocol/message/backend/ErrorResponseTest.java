package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ErrorResponseTest {
    private static final String MESSAGE = "relation \"t\" does not exist";

    // 'E' | int32 55 | 'S' "ERROR\0" | 'V' "ERROR\0" | 'C' "42P01\0" | 'M' "relation \"t\" does not exist\0" | "\0"
    private static final byte[] BYTES = wire().tag('E').int32(55)
            .int8('S').cstring("ERROR")
            .int8('V').cstring("ERROR")
            .int8('C').cstring("42P01")
            .int8('M').cstring(MESSAGE)
            .int8(0).build();

    @Test
    void encodes() {
        assertThat(drain(BackendCodec.encode(ErrorResponse.error("42P01", MESSAGE), ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        ErrorResponse decoded = (ErrorResponse) decoded(BYTES, BackendCodec::decode);

        assertThat(decoded).isEqualTo(ErrorResponse.error("42P01", MESSAGE));
        assertThat(decoded.notice().severity()).isEqualTo("ERROR");
        assertThat(decoded.code()).isEqualTo("42P01");
        assertThat(decoded.message()).isEqualTo(MESSAGE);
        assertThat(decoded.isFatal()).isFalse();
    }

    @Test
    void keepsTheFieldsInTheirOrder() {
        // 'E' | int32 50 | 'S' "FATAL\0" | 'C' "57P01\0" | 'M' "terminating\0" | 'F' "postgres.c\0" | 'L' "3300\0" | "\0"
        byte[] bytes = wire().tag('E').int32(50)
                .int8('S').cstring("FATAL")
                .int8('C').cstring("57P01")
                .int8('M').cstring("terminating")
                .int8('F').cstring("postgres.c")
                .int8('L').cstring("3300")
                .int8(0).build();

        ErrorResponse decoded = (ErrorResponse) decoded(bytes, BackendCodec::decode);

        assertThat(decoded.notice().fields().keySet()).containsExactly((byte) 'S', (byte) 'C', (byte) 'M', (byte) 'F', (byte) 'L');
        assertThat(drain(BackendCodec.encode(decoded, ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
    }

    @Test
    void isFatalForFatalAndPanic() {
        assertThat(ErrorResponse.fatal("57P01", "terminating connection").isFatal()).isTrue();
        assertThat(new ErrorResponse(Notice.of("PANIC", "XX000", "boom")).isFatal()).isTrue();
        assertThat(ErrorResponse.error("42P01", MESSAGE).isFatal()).isFalse();
    }

    @Test
    void takesTheSeverityFromTheUnlocalizedFieldWhenPresent() {
        // A German server: 'S' is translated, 'V' is not.
        Map<Byte, String> fields = new LinkedHashMap<>();
        fields.put(Notice.SEVERITY, "FEHLER");
        fields.put(Notice.SEVERITY_NONLOCALIZED, "ERROR");
        assertThat(new Notice(fields).severity()).isEqualTo("ERROR");

        // Servers before 9.6 send only 'S'.
        ErrorResponse old = new ErrorResponse(new Notice(Map.of(Notice.SEVERITY, "FATAL")));
        assertThat(old.notice().severity()).isEqualTo("FATAL");
        assertThat(old.isFatal()).isTrue();
    }

    @Test
    void addsAField() {
        ErrorResponse error = new ErrorResponse(ErrorResponse.error("28P01", "password authentication failed").notice()
                .with(Notice.HINT, "check the password"));

        assertThat(error.notice().fields()).containsEntry(Notice.HINT, "check the password");
        assertThat(error.notice().fields().keySet()).endsWith(Notice.HINT);
    }

    @Test
    void refusesAMissingTerminator() {
        // 'E' | int32 11 | 'S' "ERROR\0"   (no closing "\0")
        assertThatThrownBy(() -> decoded(wire().tag('E').int32(11).int8('S').cstring("ERROR").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid ErrorResponse message: truncated");
    }

    @Test
    void refusesAFieldWithoutItsNul() {
        // 'E' | int32 10 | 'S' "ERROR"
        assertThatThrownBy(() -> decoded(wire().tag('E').int32(10).int8('S').text("ERROR").build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("string is not NUL-terminated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'E' | int32 13 | 'S' "ERROR\0" | "\0" | 'x'
        assertThatThrownBy(() -> decoded(wire().tag('E').int32(13).int8('S').cstring("ERROR").int8(0).int8('x').build(), BackendCodec::decode))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid ErrorResponse message: 1 trailing bytes");
    }
}
