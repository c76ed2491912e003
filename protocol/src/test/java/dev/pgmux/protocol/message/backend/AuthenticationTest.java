package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Authentication* family ('R'). Records holding a byte[] are compared field by field. */
class AuthenticationTest {

    @Test
    void ok() {
        // 'R' | int32 8 | int32 0
        byte[] bytes = wire().tag('R').int32(8).int32(0).build();

        assertThat(encode(Authentication.Ok.INSTANCE)).isEqualTo(bytes);
        assertThat(decode(bytes)).isSameAs(Authentication.Ok.INSTANCE);
    }

    @Test
    void cleartextPassword() {
        // 'R' | int32 8 | int32 3
        byte[] bytes = wire().tag('R').int32(8).int32(3).build();

        assertThat(encode(Authentication.CleartextPassword.INSTANCE)).isEqualTo(bytes);
        assertThat(decode(bytes)).isSameAs(Authentication.CleartextPassword.INSTANCE);
    }

    @Test
    void md5PasswordWithItsSalt() {
        byte[] salt = {0x01, (byte) 0xAB, 0x7F, (byte) 0x80};
        // 'R' | int32 12 | int32 5 | 4 salt bytes
        byte[] bytes = wire().tag('R').int32(12).int32(5).bytes(salt).build();

        assertThat(encode(new Authentication.Md5Password(salt))).isEqualTo(bytes);
        assertThat(decode(bytes)).isInstanceOfSatisfying(Authentication.Md5Password.class,
                md5 -> assertThat(md5.salt()).isEqualTo(salt));
    }

    @Test
    void saslWithItsMechanisms() {
        // 'R' | int32 42 | int32 10 | "SCRAM-SHA-256-PLUS\0" "SCRAM-SHA-256\0" | "\0"
        byte[] bytes = wire().tag('R').int32(42).int32(10).cstring("SCRAM-SHA-256-PLUS").cstring("SCRAM-SHA-256").int8(0).build();
        Authentication.Sasl sasl = new Authentication.Sasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));

        assertThat(encode(sasl)).isEqualTo(bytes);
        assertThat(decode(bytes)).isEqualTo(sasl);
    }

    @Test
    void saslContinue() {
        byte[] serverFirst = "r=abc,s=c2FsdA==,i=4096".getBytes(StandardCharsets.US_ASCII);
        // 'R' | int32 31 | int32 11 | "r=abc,s=c2FsdA==,i=4096"   (no NUL: the data runs to the end)
        byte[] bytes = wire().tag('R').int32(31).int32(11).bytes(serverFirst).build();

        assertThat(encode(new Authentication.SaslContinue(serverFirst))).isEqualTo(bytes);
        assertThat(decode(bytes)).isInstanceOfSatisfying(Authentication.SaslContinue.class,
                c -> assertThat(c.data()).isEqualTo(serverFirst));
    }

    @Test
    void saslFinal() {
        byte[] serverFinal = "v=xyz".getBytes(StandardCharsets.US_ASCII);
        // 'R' | int32 13 | int32 12 | "v=xyz"
        byte[] bytes = wire().tag('R').int32(13).int32(12).bytes(serverFinal).build();

        assertThat(encode(new Authentication.SaslFinal(serverFinal))).isEqualTo(bytes);
        assertThat(decode(bytes)).isInstanceOfSatisfying(Authentication.SaslFinal.class,
                f -> assertThat(f.data()).isEqualTo(serverFinal));
    }

    @Test
    void unknownCodesAreUnsupported() {
        // 'R' | int32 8 | int32 7   (AuthenticationGSS)
        assertThat(decode(wire().tag('R').int32(8).int32(7).build())).isEqualTo(new Authentication.Unsupported(7));
        // 'R' | int32 11 | int32 8 | 3 bytes   (AuthenticationGSSContinue and its data)
        assertThat(decode(wire().tag('R').int32(11).int32(8).text("gss").build())).isEqualTo(new Authentication.Unsupported(8));
    }

    @Test
    void refusesToEncodeAnUnsupportedCode() {
        assertThatThrownBy(() -> BackendCodec.encode(new Authentication.Unsupported(7), ByteBufAllocator.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cannot send authentication code 7");
    }

    @Test
    void refusesATruncatedCode() {
        // 'R' | int32 6 | 2 bytes
        assertMalformed(wire().tag('R').int32(6).int8(0).int8(0).build(), "invalid Authentication message: truncated");
    }

    @Test
    void refusesATruncatedSalt() {
        // 'R' | int32 11 | int32 5 | 3 salt bytes
        assertMalformed(wire().tag('R').int32(11).int32(5).int8(1).int8(2).int8(3).build(),
                "invalid AuthenticationMD5Password message: truncated");
    }

    @Test
    void refusesTrailingBytes() {
        // 'R' | int32 9 | int32 0 | 'x'
        assertMalformed(wire().tag('R').int32(9).int32(0).int8('x').build(), "invalid Ok message: 1 trailing bytes");
        // 'R' | int32 13 | int32 5 | 5 salt bytes
        assertMalformed(wire().tag('R').int32(13).int32(5).text("12345").build(), "invalid Md5Password message: 1 trailing bytes");
    }

    @Test
    void refusesAMechanismListWithoutItsTerminator() {
        // 'R' | int32 22 | int32 10 | "SCRAM-SHA-256\0"   (the closing "\0" is missing)
        assertMalformed(wire().tag('R').int32(22).int32(10).cstring("SCRAM-SHA-256").build(), "string is not NUL-terminated");
    }

    private static byte[] encode(Authentication message) {
        return drain(BackendCodec.encode(message, ByteBufAllocator.DEFAULT));
    }

    private static BackendMessage decode(byte[] bytes) {
        return decoded(bytes, BackendCodec::decode);
    }

    private static void assertMalformed(byte[] bytes, String message) {
        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(ProtocolException.class).hasMessage(message);
    }
}
