package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The checks that let the relay pass messages about the unnamed statement on without decoding them. */
class UnnamedStatementChecksTest {

    // 'P' | int32 20 | "" | "SELECT 1" | int16 1 | int32 23
    private static final byte[] UNNAMED_PARSE = wire().tag('P').int32(20).cstring("").cstring("SELECT 1")
            .int8(0).int8(1).int32(23).build();
    // 'P' | int32 18 | "s1" | "SELECT 1" | int16 0
    private static final byte[] NAMED_PARSE = wire().tag('P').int32(18).cstring("s1").cstring("SELECT 1").int8(0).int8(0).build();
    /** The messages are checked where they lie in a batch, between others: a Sync before, a Flush after. */
    private static final byte[] BEFORE = wire().tag('S').int32(4).build();
    private static final byte[] AFTER = wire().tag('H').int32(4).build();

    interface Check<T> {
        T at(ByteBuf buf, int index, int length);
    }

    private static <T> T inBatch(byte[] message, Check<T> check) {
        ByteBuf batch = Unpooled.wrappedBuffer(BEFORE, message, AFTER);
        try {
            return check.at(batch, BEFORE.length, message.length);
        } finally {
            batch.release();
        }
    }

    @Test
    void findsTheQueryOfAnUnnamedParse() {
        int query = inBatch(UNNAMED_PARSE, FrontendCodec::unnamedParseQuery);

        assertThat(query).isEqualTo(BEFORE.length + 6); // tag, length, the empty name's NUL
        assertThat(new String(UNNAMED_PARSE, query - BEFORE.length, "SELECT 1".length())).isEqualTo("SELECT 1");
        assertThat(decoded(UNNAMED_PARSE, FrontendCodec::decodeParse)).isEqualTo(new Parse("", "SELECT 1", new int[] {23}));
    }

    @Test
    void saysANamedParseIsNamed() {
        assertThat(inBatch(NAMED_PARSE, FrontendCodec::unnamedParseQuery)).isEqualTo(-1);
    }

    @Test
    void refusesWhatDecodeParseRefuses() {
        // Two parameter types announced, one given.
        byte[] shortTypes = wire().tag('P').int32(20).cstring("").cstring("SELECT 1").int8(0).int8(2).int32(23).build();
        // The query has no NUL.
        byte[] noNul = wire().tag('P').int32(13).cstring("").text("SELECT 1").build();

        for (byte[] bad : new byte[][] {shortTypes, noNul}) {
            assertThatThrownBy(() -> inBatch(bad, FrontendCodec::unnamedParseQuery)).isInstanceOf(ProtocolException.class);
            assertThatThrownBy(() -> decoded(bad, FrontendCodec::decodeParse)).isInstanceOf(ProtocolException.class);
        }
    }

    @Test
    void tellsABindOfTheUnnamedStatement() {
        // 'B' | int32 | portal "" | statement "" | formats 0 | params 0 | result formats 0
        byte[] unnamed = wire().tag('B').int32(12).cstring("").cstring("").int8(0).int8(0).int8(0).int8(0).int8(0).int8(0).build();
        byte[] named = wire().tag('B').int32(14).cstring("").cstring("s1").int8(0).int8(0).int8(0).int8(0).int8(0).int8(0).build();
        byte[] namedPortal = wire().tag('B').int32(14).cstring("p1").cstring("").int8(0).int8(0).int8(0).int8(0).int8(0).int8(0).build();

        assertThat(inBatch(unnamed, FrontendCodec::bindsUnnamedStatement)).isTrue();
        assertThat(inBatch(named, FrontendCodec::bindsUnnamedStatement)).isFalse();
        assertThat(inBatch(namedPortal, FrontendCodec::bindsUnnamedStatement)).isTrue();
        assertThatThrownBy(() -> inBatch(wire().tag('B').int32(6).text("p1").build(), FrontendCodec::bindsUnnamedStatement))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void tellsADescribeOfAPortalOrTheUnnamedStatement() {
        byte[] portal = wire().tag('D').int32(8).int8('P').cstring("p1").build();
        byte[] unnamed = wire().tag('D').int32(6).int8('S').cstring("").build();
        byte[] named = wire().tag('D').int32(8).int8('S').cstring("s1").build();

        assertThat(inBatch(portal, FrontendCodec::describesPortalOrUnnamed)).isTrue();
        assertThat(inBatch(unnamed, FrontendCodec::describesPortalOrUnnamed)).isTrue();
        assertThat(inBatch(named, FrontendCodec::describesPortalOrUnnamed)).isFalse();
        assertThatThrownBy(() -> inBatch(wire().tag('D').int32(6).int8('X').cstring("").build(), FrontendCodec::describesPortalOrUnnamed))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("subtype");
        assertThatThrownBy(() -> inBatch(wire().tag('D').int32(9).int8('S').cstring("s1").int8(7).build(),
                FrontendCodec::describesPortalOrUnnamed)).isInstanceOf(ProtocolException.class);
    }
}
