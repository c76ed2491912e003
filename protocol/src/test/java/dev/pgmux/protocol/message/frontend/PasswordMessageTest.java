package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PasswordMessageTest {
    // 'p' | int32 11 | "secret\0"
    private static final byte[] BYTES = wire().tag('p').int32(11).cstring("secret").build();

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(new PasswordMessage("secret"), ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesAnMd5Hash() {
        String hash = "md5" + "0123456789abcdef".repeat(2);
        // 'p' | int32 40 | "md5" + 32 hex digits + "\0"
        byte[] bytes = wire().tag('p').int32(40).cstring(hash).build();

        assertThat(drain(FrontendCodec.encode(new PasswordMessage(hash), ByteBufAllocator.DEFAULT))).isEqualTo(bytes);
    }

    @Test
    void decodes() {
        assertThat(decoded(BYTES, FrontendCodec::decodePassword)).isEqualTo(new PasswordMessage("secret"));
    }

    @Test
    void refusesAPasswordWithoutItsNul() {
        // 'p' | int32 10 | "secret"
        byte[] bytes = wire().tag('p').int32(10).text("secret").build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodePassword))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("string is not NUL-terminated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'p' | int32 13 | "secret\0" | "x\0"
        byte[] bytes = wire().tag('p').int32(13).cstring("secret").cstring("x").build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodePassword))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("invalid password message: 2 trailing bytes");
    }

    @Test
    void refusesAnotherMessage() {
        // 'Q' | int32 11 | "secret\0"
        byte[] bytes = wire().tag('Q').int32(11).cstring("secret").build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodePassword))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("expected password message ('p'), got 'Q'");
    }

    @Test
    void doesNotPrintThePassword() {
        assertThat(new PasswordMessage("secret").toString()).doesNotContain("secret");
    }
}
