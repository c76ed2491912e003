package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.Buffers.written;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class StartupMessageTest {
    private static final int V3_0 = 196608; // 3 << 16 | 0
    private static final int V3_2 = 196610; // 3 << 16 | 2

    // int32 56 | int32 196608 | "user\0" "alice\0" | "database\0" "shop\0" | "application_name\0" "psql\0" | "\0"
    private static final byte[] BYTES = wire().int32(56).int32(V3_0)
            .cstring("user").cstring("alice")
            .cstring("database").cstring("shop")
            .cstring("application_name").cstring("psql")
            .int8(0).build();

    private static final StartupMessage MESSAGE = new StartupMessage(StartupMessage.PROTOCOL_3_0,
            parameters("user", "alice", "database", "shop", "application_name", "psql"));

    @Test
    void encodes() {
        assertThat(drain(FrontendCodec.encode(MESSAGE, ByteBufAllocator.DEFAULT))).isEqualTo(BYTES);
    }

    @Test
    void encodesAfterWhatTheBufferAlreadyHolds() {
        byte[] bytes = written(out -> {
            out.writeBytes(new byte[] {1, 2, 3});
            FrontendCodec.encode(MESSAGE, out);
        });

        assertThat(bytes).startsWith(1, 2, 3).endsWith(BYTES).hasSize(3 + BYTES.length);
    }

    @Test
    void decodesWithTheParametersInTheirOrder() {
        StartupMessage decoded = (StartupMessage) decoded(BYTES, FrontendCodec::decodeStartup);

        assertThat(decoded).isEqualTo(MESSAGE);
        assertThat(decoded.parameters().keySet()).containsExactly("user", "database", "application_name");
        assertThat(decoded.majorVersion()).isEqualTo(3);
        assertThat(decoded.minorVersion()).isZero();
    }

    @Test
    void decodesProtocol32ForNegotiatingDown() {
        // int32 20 | int32 196610 (3.2) | "user\0" "alice\0" | "\0"
        byte[] bytes = wire().int32(20).int32(V3_2).cstring("user").cstring("alice").int8(0).build();

        StartupMessage decoded = (StartupMessage) decoded(bytes, FrontendCodec::decodeStartup);

        assertThat(decoded.majorVersion()).isEqualTo(3);
        assertThat(decoded.minorVersion()).isEqualTo(2);
        assertThat(decoded.user()).isEqualTo("alice");
    }

    @Test
    void databaseDefaultsToTheUser() {
        assertThat(new StartupMessage(V3_0, parameters("user", "alice")).database()).isEqualTo("alice");
        assertThat(new StartupMessage(V3_0, parameters("user", "alice", "database", "")).database()).isEqualTo("alice");
        assertThat(new StartupMessage(V3_0, parameters("user", "alice", "database", "shop")).database()).isEqualTo("shop");
        assertThat(new StartupMessage(V3_0, parameters("database", "shop")).user()).isNull();
        assertThat(new StartupMessage(V3_0, Map.of()).database()).isNull();
    }

    @Test
    void keepsACopyOfTheParameters() {
        Map<String, String> parameters = parameters("user", "alice");
        StartupMessage message = new StartupMessage(V3_0, parameters);
        parameters.put("user", "mallory");

        assertThat(message.user()).isEqualTo("alice");
        assertThatThrownBy(() -> message.parameters().put("user", "mallory"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void refusesProtocol2() {
        // int32 20 | int32 131072 (2.0) | "user\0" "alice\0" | "\0"
        byte[] bytes = wire().int32(20).int32(2 << 16).cstring("user").cstring("alice").int8(0).build();

        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("unsupported frontend protocol 2.0")
                .extracting(e -> ((ProtocolException) e).sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
    }

    @Test
    void refusesAValueWithoutItsNul() {
        // int32 18 | int32 196608 | "user\0" "alice"   (no NUL after the value, no terminator)
        byte[] bytes = wire().int32(18).int32(V3_0).cstring("user").text("alice").build();

        assertProtocolViolation(bytes, "string is not NUL-terminated");
    }

    @Test
    void refusesANameWithoutAValue() {
        // int32 13 | int32 196608 | "user\0"   (the packet ends after the name)
        byte[] bytes = wire().int32(13).int32(V3_0).cstring("user").build();

        assertProtocolViolation(bytes, "expected terminator as last byte");
    }

    @Test
    void refusesBytesAfterTheTerminator() {
        // int32 21 | int32 196608 | "user\0" "alice\0" | "\0" | 'x'
        byte[] bytes = wire().int32(21).int32(V3_0).cstring("user").cstring("alice").int8(0).int8('x').build();

        assertProtocolViolation(bytes, "1 trailing bytes");
    }

    /**
     * The parameter list ends with a zero byte, which Postgres requires ("invalid startup packet layout:
     * expected terminator as last byte"). FrontendCodec.decodeStartup accepts a packet that stops right
     * after the last value.
     */
    @Test
    void refusesAPacketWithoutTheFinalTerminator() {
        // int32 19 | int32 196608 | "user\0" "alice\0"   (the terminating "\0" is missing)
        byte[] bytes = wire().int32(19).int32(V3_0).cstring("user").cstring("alice").build();

        Throwable thrown = catchThrowable(() -> decoded(bytes, FrontendCodec::decodeStartup));

        assertThat(thrown)
                .as("FrontendCodec.decodeStartup must refuse a StartupMessage whose parameter list lacks its"
                        + " terminating zero byte, as Postgres does; it returned %s", thrown == null ? "a StartupMessage" : thrown)
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("expected terminator as last byte");
    }

    private static void assertProtocolViolation(byte[] bytes, String message) {
        assertThatThrownBy(() -> decoded(bytes, FrontendCodec::decodeStartup))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((ProtocolException) e).sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
    }

    private static Map<String, String> parameters(String... namesAndValues) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            parameters.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return parameters;
    }
}
