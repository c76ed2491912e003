package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** SASLInitialResponse. The record holds a byte[], so equality is checked field by field. */
class SaslInitialResponseTest {
    private static final byte[] CLIENT_FIRST = "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII);

    // 'p' | int32 33 | "SCRAM-SHA-256\0" | int32 11 | "n,,n=,r=abc"
    private static final byte[] BYTES = wire().tag('p').int32(33).cstring("SCRAM-SHA-256").int32(11).text("n,,n=,r=abc").build();
    // 'p' | int32 22 | "SCRAM-SHA-256\0" | int32 -1   (no initial response)
    private static final byte[] WITHOUT_DATA = wire().tag('p').int32(22).cstring("SCRAM-SHA-256").int32(-1).build();

    @Test
    void encodes() {
        SaslInitialResponse message = new SaslInitialResponse("SCRAM-SHA-256", CLIENT_FIRST);

        assertThat(drain(FrontendCodec.encode(message, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesNoDataAsLengthMinusOne() {
        SaslInitialResponse message = new SaslInitialResponse("SCRAM-SHA-256", null);

        assertThat(drain(FrontendCodec.encode(message, ByteBufAllocator.DEFAULT))).isEqualTo(WITHOUT_DATA);
    }

    @Test
    void decodes() {
        SaslInitialResponse decoded = decoded(BYTES, FrontendCodec::decodeSaslInitialResponse);

        assertThat(decoded.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(decoded.data()).isEqualTo(CLIENT_FIRST);
    }

    @Test
    void decodesLengthMinusOneAsNoData() {
        SaslInitialResponse decoded = decoded(WITHOUT_DATA, FrontendCodec::decodeSaslInitialResponse);

        assertThat(decoded.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(decoded.data()).isNull();
    }

    @Test
    void decodesAnEmptyResponse() {
        // 'p' | int32 22 | "SCRAM-SHA-256\0" | int32 0
        byte[] bytes = wire().tag('p').int32(22).cstring("SCRAM-SHA-256").int32(0).build();

        assertThat(decoded(bytes, FrontendCodec::decodeSaslInitialResponse).data()).isEmpty();
    }

    @Test
    void refusesDataShorterThanItsLength() {
        // 'p' | int32 33 | "SCRAM-SHA-256\0" | int32 12 | "n,,n=,r=abc"   (11 bytes, not 12)
        byte[] bytes = wire().tag('p').int32(33).cstring("SCRAM-SHA-256").int32(12).text("n,,n=,r=abc").build();

        assertMalformed(bytes, "invalid SASLInitialResponse message: truncated");
    }

    @Test
    void refusesDataLongerThanItsLength() {
        // 'p' | int32 33 | "SCRAM-SHA-256\0" | int32 10 | "n,,n=,r=abc"   (11 bytes, not 10)
        byte[] bytes = wire().tag('p').int32(33).cstring("SCRAM-SHA-256").int32(10).text("n,,n=,r=abc").build();

        assertMalformed(bytes, "invalid SASLInitialResponse message: 1 trailing bytes");
    }

    @Test
    void refusesAMissingLength() {
        // 'p' | int32 18 | "SCRAM-SHA-256\0"
        byte[] bytes = wire().tag('p').int32(18).cstring("SCRAM-SHA-256").build();

        assertMalformed(bytes, "invalid SASLInitialResponse message: truncated");
    }

    @Test
    void refusesAMechanismWithoutItsNul() {
        // 'p' | int32 17 | "SCRAM-SHA-256"
        byte[] bytes = wire().tag('p').int32(17).text("SCRAM-SHA-256").build();

        assertMalformed(bytes, "string is not NUL-terminated");
    }

    /**
     * Only -1 means "no data"; Postgres refuses any other negative length ("insufficient data left in
     * message"). FrontendCodec.decodeSaslInitialResponse takes every negative length as -1.
     */
    @Test
    void refusesANegativeLengthOtherThanMinusOne() {
        // 'p' | int32 22 | "SCRAM-SHA-256\0" | int32 -2
        byte[] bytes = wire().tag('p').int32(22).cstring("SCRAM-SHA-256").int32(-2).build();

        Throwable thrown = catchThrowable(() -> decoded(bytes, FrontendCodec::decodeSaslInitialResponse));

        assertThat(thrown)
                .as("FrontendCodec.decodeSaslInitialResponse must refuse a data length of -2 (only -1 means no data);"
                        + " it returned %s", thrown == null ? "a response without data" : thrown)
                .isInstanceOf(ProtocolException.class);
    }

    private static void assertMalformed(byte[] bytes, String message) {
        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeSaslInitialResponse))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(message);
    }
}
