package dev.pgmux.protocol.frame;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.testing.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static dev.pgmux.protocol.testing.Inbound.concat;
import static dev.pgmux.protocol.testing.Inbound.drain;
import static dev.pgmux.protocol.testing.Inbound.write;
import static dev.pgmux.protocol.testing.Inbound.writeByteByByte;
import static dev.pgmux.protocol.testing.Inbound.writeFragmented;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link FrameDecoder} in the tagged phase: tag + int32 length (counting itself) + payload. */
class FrameDecoderTest {
    private static final int MAX_FRAME = 1024;

    // 'Q' | int32 13 | "SELECT 1\0"
    private static final byte[] QUERY = wire().tag('Q').int32(13).cstring("SELECT 1").build();
    // 'S' | int32 4   (Sync: no payload)
    private static final byte[] SYNC = wire().tag('S').int32(4).build();
    // 'D' | int32 13 | int16 1 column | int32 3 bytes | "abc"   (DataRow, passed through untyped)
    private static final byte[] DATA_ROW = wire().tag('D').int32(13).int8(0).int8(1).int32(3).text("abc").build();

    private final FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.MESSAGES, MAX_FRAME, 10_000);
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

    @Test
    void framesAWholeMessage() {
        write(channel, QUERY);

        assertThat(drain(channel)).containsExactly(QUERY);
        assertFalse(channel.finish());
    }

    @Test
    void framesAMessageWithAnEmptyPayload() {
        write(channel, SYNC);

        assertThat(drain(channel)).containsExactly(SYNC);
        assertFalse(channel.finish());
    }

    @Test
    void framesEveryMessageOfOneRead() {
        write(channel, concat(QUERY, DATA_ROW, SYNC));

        assertThat(drain(channel)).containsExactly(QUERY, DATA_ROW, SYNC);
        assertFalse(channel.finish());
    }

    @Test
    void waitsForTheLastByteWhenFedByteByByte() {
        byte[] allButLast = Arrays.copyOf(QUERY, QUERY.length - 1);
        writeByteByByte(channel, allButLast);
        assertThat(channel.inboundMessages()).isEmpty();
        assertThat(decoder.bufferedBytes()).isEqualTo(QUERY.length - 1);

        write(channel, new byte[] {QUERY[QUERY.length - 1]});

        assertThat(drain(channel)).containsExactly(QUERY);
        assertThat(decoder.bufferedBytes()).isZero();
        assertFalse(channel.finish());
    }

    @Test
    void framesSeveralMessagesFedByteByByte() {
        writeByteByByte(channel, concat(QUERY, DATA_ROW, SYNC));

        assertThat(drain(channel)).containsExactly(QUERY, DATA_ROW, SYNC);
        assertFalse(channel.finish());
    }

    @Test
    void framesMessagesFedInRandomFragments() {
        Random random = new Random(20240611L);
        byte[] large = large('d', 700);
        for (int round = 0; round < 50; round++) {
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(FrameDecoder.State.MESSAGES, MAX_FRAME, 0));

            writeFragmented(channel, concat(QUERY, large, SYNC, DATA_ROW, QUERY), random, 1 + random.nextInt(40));

            assertThat(drain(channel)).as("round %d", round).containsExactly(QUERY, large, SYNC, DATA_ROW, QUERY);
            assertFalse(channel.finish());
        }
    }

    @Test
    void emitsASliceOfTheInputNotACopy() {
        ByteBuf input = ByteBufAllocator.DEFAULT.buffer().writeBytes(QUERY);
        input.retain(); // keep a reference to look at the memory after the decoder is done with it
        try {
            channel.writeInbound(input);
            ByteBuf frame = channel.readInbound();
            try {
                assertThat(frame.readableBytes()).isEqualTo(QUERY.length);
                input.setByte(5, 'X'); // first byte of "SELECT 1"
                assertThat(frame.getByte(5)).as("the frame shares the input's memory").isEqualTo((byte) 'X');
            } finally {
                frame.release();
            }
        } finally {
            input.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void acceptsAMessageOfExactlyTheMaximumSize() {
        byte[] largest = large('d', MAX_FRAME);

        write(channel, largest);

        assertThat(drain(channel)).containsExactly(largest);
        assertFalse(channel.finish());
    }

    @Test
    void refusesAMessageOverTheMaximumWithoutWaitingForItsBytes() {
        // 'd' | int32 1025   (header only: the payload never needs to arrive)
        byte[] header = wire().tag('d').int32(MAX_FRAME + 1).build();

        assertThatThrownBy(() -> write(channel, header))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .hasMessageContaining("1025").hasMessageContaining("limits.max_frame_size");
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.FAILED);
        assertFalse(channel.finish());
    }

    @Test
    void emitsNothingMoreAfterAnError() {
        // Query | 'd' | int32 2000 | ...   then, in later reads, well-formed messages
        assertThatThrownBy(() -> write(channel, concat(QUERY, wire().tag('d').int32(2000).text("xyz").build())))
                .hasCauseInstanceOf(ProtocolException.class);
        assertThat(drain(channel)).as("the message before the bad one").containsExactly(QUERY);

        write(channel, concat(SYNC, QUERY));
        writeByteByByte(channel, DATA_ROW);

        assertThat(channel.inboundMessages()).isEmpty();
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.FAILED);
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 2, 1, 0, -1, Integer.MIN_VALUE})
    void refusesALengthThatDoesNotCoverItself(int length) {
        // 'Q' | int32 length < 4
        byte[] header = wire().tag('Q').int32(length).build();

        assertThatThrownBy(() -> write(channel, header))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .hasMessage("invalid message length: " + length)
                .satisfies(e -> assertThat(((ProtocolException) e).sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION));
        assertFalse(channel.finish());
    }

    @Test
    void emitsNothingForATruncatedHeader() {
        // 'Q' | int32 13, missing its last byte
        write(channel, new byte[] {'Q', 0, 0, 0});

        assertThat(channel.inboundMessages()).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void emitsNothingForATruncatedPayload() {
        write(channel, Arrays.copyOf(QUERY, QUERY.length - 3));

        assertThat(channel.inboundMessages()).isEmpty();
        assertThat(decoder.bufferedBytes()).isEqualTo(QUERY.length - 3);
        assertFalse(channel.finish());
    }

    @Test
    void startupDoneHasNoEffectInTheTaggedPhase() {
        decoder.startupDone();

        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.MESSAGES);
        assertFalse(channel.finish());
    }

    /** A tagged message whose length field is {@code length}: tag | int32 length | (length - 4) filler bytes. */
    private static byte[] large(char tag, int length) {
        WireBytes bytes = wire().tag(tag).int32(length);
        for (int i = 0; i < length - 4; i++) {
            bytes.int8('a' + i % 26);
        }
        return bytes.build();
    }
}
