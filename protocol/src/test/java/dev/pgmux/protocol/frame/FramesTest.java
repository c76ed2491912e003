package dev.pgmux.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.Buffers.written;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FramesTest {
    // 'Q' | int32 13 | "SELECT 1\0"
    private static final byte[] QUERY = wire().tag('Q').int32(13).cstring("SELECT 1").build();

    @Test
    void readsTheTagAndAViewOfThePayload() {
        decoded(QUERY, frame -> {
            assertThat(Frames.tag(frame)).isEqualTo((byte) 'Q');
            ByteBuf payload = Frames.payload(frame);
            assertThat(payload.readableBytes()).isEqualTo(9);
            assertThat(Frames.readCString(payload)).isEqualTo("SELECT 1");
            assertThat(payload.isReadable()).isFalse();
            return null;
        });
    }

    @Test
    void readsCStringsOneAfterTheOther() {
        // "user\0" "\0" "x"
        decoded(wire().cstring("user").cstring("").text("x").build(), buf -> {
            ByteBuf in = buf.duplicate();
            assertThat(Frames.readCString(in)).isEqualTo("user");
            assertThat(Frames.readCString(in)).isEmpty();
            assertThatThrownBy(() -> Frames.readCString(in))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("string is not NUL-terminated");
            assertThat(in.readableBytes()).as("a failed read moves nothing").isEqualTo(1);
            return null;
        });
    }

    @Test
    void writesTheLengthOfAMessageItStarted() {
        byte[] bytes = written(out -> {
            out.writeByte(0xFF); // something already in the buffer
            int at = Frames.beginMessage(out, (byte) 'Q');
            Frames.writeCString(out, "SELECT 1");
            Frames.endMessage(out, at);
        });

        assertThat(bytes).isEqualTo(wire().int8(0xFF).bytes(QUERY).build());
    }

    @Test
    void checksWhatIsLeftOfAPayload() {
        ByteBuf payload = ByteBufAllocator.DEFAULT.buffer().writeBytes(new byte[] {1, 2});
        try {
            assertThatThrownBy(() -> Frames.requireConsumed(payload, "Sync"))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("invalid Sync message: 2 trailing bytes");
            assertThatThrownBy(() -> Frames.requireReadable(payload, 3, "Sync"))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("invalid Sync message: truncated");
            Frames.requireReadable(payload, 2, "Sync");
        } finally {
            payload.release();
        }
    }
}
