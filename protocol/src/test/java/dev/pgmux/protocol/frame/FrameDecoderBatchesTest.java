package dev.pgmux.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.pgmux.protocol.testing.Inbound.concat;
import static dev.pgmux.protocol.testing.Inbound.write;
import static dev.pgmux.protocol.testing.Inbound.writeFragmented;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link FrameDecoder#batches}: every whole message of a read in one slice, walked with {@link Frames#length}. */
class FrameDecoderBatchesTest {
    private static final int MAX_FRAME = 1024;

    private static final byte[] ROW_DESCRIPTION = wire().tag('T').int32(6).int8(0).int8(0).build();
    private static final byte[] DATA_ROW = wire().tag('D').int32(13).int8(0).int8(1).int32(3).text("abc").build();
    private static final byte[] COMMAND_COMPLETE = wire().tag('C').int32(13).cstring("SELECT 1").build();
    private static final byte[] READY = wire().tag('Z').int32(5).int8('I').build();

    private final EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.batches(MAX_FRAME));

    @Test
    void handsOnEveryWholeMessageOfAReadAsOneBatch() {
        write(channel, concat(ROW_DESCRIPTION, DATA_ROW, COMMAND_COMPLETE, READY));

        List<List<byte[]>> batches = drainBatches(channel);
        assertThat(batches).hasSize(1);
        assertThat(batches.get(0)).containsExactly(ROW_DESCRIPTION, DATA_ROW, COMMAND_COMPLETE, READY);
        assertFalse(channel.finish());
    }

    @Test
    void passesAReadOfWholeMessagesOnAsItIs() {
        ByteBuf read = Unpooled.wrappedBuffer(concat(DATA_ROW, COMMAND_COMPLETE, READY));

        channel.writeInbound(read);

        ByteBuf batch = channel.readInbound();
        assertThat(batch).isSameAs(read);
        assertThat(ByteBufUtil.getBytes(batch)).isEqualTo(concat(DATA_ROW, COMMAND_COMPLETE, READY));
        batch.release();
        assertFalse(channel.finish());
    }

    @Test
    void aReadAfterAPartialOneIsJoinedToIt() {
        byte[] all = concat(DATA_ROW, COMMAND_COMPLETE, READY);
        int cut = DATA_ROW.length + 3;
        write(channel, concat(ROW_DESCRIPTION, java.util.Arrays.copyOf(all, cut)));
        // The rest ends on a message boundary, but the bytes before it must come first.
        write(channel, java.util.Arrays.copyOfRange(all, cut, all.length));
        write(channel, READY);

        List<byte[]> messages = new ArrayList<>();
        drainBatches(channel).forEach(messages::addAll);
        assertThat(messages).containsExactly(ROW_DESCRIPTION, DATA_ROW, COMMAND_COMPLETE, READY, READY);
        assertFalse(channel.finish());
    }

    @Test
    void keepsAPartialMessageForTheNextRead() {
        byte[] all = concat(DATA_ROW, COMMAND_COMPLETE);
        int cut = DATA_ROW.length + 3; // inside the CommandComplete header
        write(channel, java.util.Arrays.copyOf(all, cut));
        List<List<byte[]>> first = drainBatches(channel);

        write(channel, java.util.Arrays.copyOfRange(all, cut, all.length));
        List<List<byte[]>> second = drainBatches(channel);

        assertThat(first).hasSize(1);
        assertThat(first.get(0)).containsExactly(DATA_ROW);
        assertThat(second).hasSize(1);
        assertThat(second.get(0)).containsExactly(COMMAND_COMPLETE);
        assertFalse(channel.finish());
    }

    @Test
    void deliversTheSameMessagesHoweverTheBytesAreFragmented() {
        Random random = new Random(20261121L);
        byte[] large = wire().tag('D').int32(704).text("x".repeat(700)).build();
        for (int round = 0; round < 50; round++) {
            EmbeddedChannel fragmented = new EmbeddedChannel(FrameDecoder.batches(MAX_FRAME));

            writeFragmented(fragmented, concat(ROW_DESCRIPTION, large, DATA_ROW, COMMAND_COMPLETE, READY), random,
                    1 + random.nextInt(60));

            List<byte[]> messages = new ArrayList<>();
            drainBatches(fragmented).forEach(messages::addAll);
            assertThat(messages).as("round %d", round).containsExactly(ROW_DESCRIPTION, large, DATA_ROW, COMMAND_COMPLETE, READY);
            assertFalse(fragmented.finish());
        }
    }

    @Test
    void refusesAMessageOverTheMaximum() {
        byte[] huge = wire().tag('D').int32(MAX_FRAME + 1).build();

        assertThatThrownBy(() -> write(channel, concat(DATA_ROW, huge)))
                .isInstanceOf(DecoderException.class)
                .hasRootCauseInstanceOf(ProtocolException.class)
                .rootCause().hasMessageContaining("exceeds the maximum");
        drainBatches(channel);
        channel.finishAndReleaseAll();
    }

    /** Each batch split into its messages with {@link Frames#length}, copied; the batches are released. */
    private static List<List<byte[]>> drainBatches(EmbeddedChannel channel) {
        List<List<byte[]>> batches = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            ByteBuf batch = (ByteBuf) message;
            try {
                List<byte[]> messages = new ArrayList<>();
                for (int at = batch.readerIndex(); at < batch.writerIndex(); at += Frames.length(batch, at)) {
                    messages.add(ByteBufUtil.getBytes(batch, at, Frames.length(batch, at)));
                }
                batches.add(messages);
            } finally {
                batch.release();
            }
        }
        return batches;
    }
}
