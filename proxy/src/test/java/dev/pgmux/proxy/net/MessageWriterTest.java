package dev.pgmux.proxy.net;

import dev.pgmux.protocol.frame.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pgmux.protocol.testing.Inbound.concat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link MessageWriter} on a pipeline shaped like pgmux's: an outbound handler in front (where TLS sits),
 * the frame decoder, and handlers that only read. What reaches the front handler is what the socket gets.
 */
class MessageWriterTest {
    // 'Q' | int32 13 | "SELECT 1\0"  and  'S' | int32 4 (Sync)
    private static final byte[] QUERY = {'Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0};
    private static final byte[] SYNC = {'S', 0, 0, 0, 4};

    private final Front front = new Front();
    private final Behind behind = new Behind();
    private final EmbeddedChannel channel = new EmbeddedChannel(front, FrameDecoder.batches(1 << 20), behind);
    private final MessageWriter writer = new MessageWriter(MessageWriter.entry(channel), channel.alloc());

    @AfterEach
    void close() {
        front.written.forEach(ByteBuf::release);
        channel.finishAndReleaseAll();
    }

    @Test
    void writesEnterAtTheFrameDecoderAndPassTheHandlersInFrontOfIt() {
        assertThat(MessageWriter.entry(channel)).isSameAs(channel.pipeline().context(FrameDecoder.class));

        writer.write(Unpooled.wrappedBuffer(SYNC));
        writer.flush();

        assertThat(front.written).hasSize(1);
        assertThat(front.flushes).isEqualTo(1);
        assertThat(behind.writes).isZero();
    }

    @Test
    void withoutAFrameDecoderWritesStartAtTheTailOfThePipeline() {
        EmbeddedChannel plain = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        try {
            assertThat(MessageWriter.entry(plain)).isSameAs(plain);
        } finally {
            plain.finishAndReleaseAll();
        }
    }

    @Test
    void aFlushWithNothingWrittenSinceTheLastOneDoesNotReachTheChannel() {
        writer.flush();
        assertThat(front.flushes).isZero();

        writer.write(Unpooled.wrappedBuffer(SYNC));
        writer.flush();
        writer.flush();
        writer.emit();
        writer.flush();

        assertThat(front.flushes).isEqualTo(1);
        assertThat(front.written).hasSize(1);
    }

    @Test
    void whatWasWrittenByOtherMeansGoesOutWithTheNextFlush() {
        channel.pipeline().context(FrameDecoder.class).write(Unpooled.wrappedBuffer(SYNC));
        writer.writtenElsewhere();
        writer.flush();

        assertThat(front.written).hasSize(1);
        assertThat(front.flushes).isEqualTo(1);
    }

    @Test
    void neighbouringMessagesOfABatchGoOutAsOneWriteAndTheGatheredRunIsFlushed() {
        ByteBuf batch = Unpooled.wrappedBuffer(QUERY, SYNC);
        try {
            writer.relay(batch, 0, QUERY.length);
            writer.relay(batch, QUERY.length, SYNC.length);
            writer.flush();
        } finally {
            batch.release();
        }

        assertThat(front.written).hasSize(1);
        assertThat(ByteBufUtil.getBytes(front.written.get(0))).isEqualTo(concat(QUERY, SYNC));
        assertThat(front.flushes).isEqualTo(1);
    }

    @Test
    void aMessageOfItsOwnGoesOutAfterWhatWasGathered() {
        ByteBuf batch = Unpooled.wrappedBuffer(QUERY);
        try {
            writer.relay(batch, 0, QUERY.length);
            writer.write(Unpooled.wrappedBuffer(SYNC));
        } finally {
            batch.release();
        }
        writer.flush();

        assertThat(front.written).extracting(ByteBufUtil::getBytes).containsExactly(QUERY, SYNC);
    }

    @Test
    void switchingTargetsSendsWhatThePreviousTargetWasOwed() {
        EmbeddedChannel other = new EmbeddedChannel();
        try {
            writer.write(Unpooled.wrappedBuffer(SYNC));
            writer.target(other);

            assertThat(front.flushes).isEqualTo(1);
            assertThat(front.written).hasSize(1);

            writer.flush();
            assertThat(front.flushes).isEqualTo(1);
            assertThat((Object) other.readOutbound()).isNull();
        } finally {
            other.finishAndReleaseAll();
        }
    }

    /** Stands where TLS would: sees every write and flush on its way to the socket, and keeps the writes. */
    private static final class Front extends ChannelOutboundHandlerAdapter {
        final List<ByteBuf> written = new ArrayList<>();
        int flushes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            written.add((ByteBuf) msg);
            promise.trySuccess();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes++;
        }
    }

    /** Stands after the decoder, where pgmux's handlers sit: a write starting at the tail would pass it. */
    private static final class Behind extends ChannelOutboundHandlerAdapter {
        int writes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            writes++;
            ctx.write(msg, promise);
        }
    }
}
