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

/** SASLResponse. The record holds a byte[], so equality is checked on the data. */
class SaslResponseTest {
    private static final byte[] CLIENT_FINAL = "c=biws,r=abc,p=xyz".getBytes(StandardCharsets.US_ASCII);

    // 'p' | int32 22 | "c=biws,r=abc,p=xyz"   (the data runs to the end of the message: no NUL)
    private static final byte[] BYTES = wire().tag('p').int32(22).text("c=biws,r=abc,p=xyz").build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(new SaslResponse(CLIENT_FINAL), ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodeSaslResponse).data()).isEqualTo(CLIENT_FINAL);
    }

    @Test
    void decodesEmptyData() {
        // 'p' | int32 4
        assertThat(decoded(wire().tag('p').int32(4).build(), FrontendCodec::decodeSaslResponse).data()).isEmpty();
    }

    @Test
    void refusesAnotherMessage() {
        // 'X' | int32 4   (Terminate)
        assertThatThrownBy(() -> decoded(wire().tag('X').int32(4).build(), FrontendCodec::decodeSaslResponse))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("expected SASLResponse message ('p'), got 'X'");
    }

    @Test
    void doesNotPrintTheData() {
        assertThat(new SaslResponse(CLIENT_FINAL).toString()).doesNotContain("c=biws");
    }
}
