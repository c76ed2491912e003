package dev.pgmux.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundInvoker;
import dev.pgmux.protocol.frame.FrameDecoder;

/**
 * Writes protocol messages towards one side of a relay (a client's pipeline, or the server a client is
 * attached to). Messages that lie back to back in one batch and pass unchanged are gathered into a single
 * write: one trip through the pipeline, one buffer for the socket, rather than one per message. Whatever
 * is written otherwise goes out after what was gathered, so order holds.
 *
 * <p>The gathered run refers to the batch being handled, which lives only while it is: whoever relays
 * from a batch calls {@link #emit} before letting the batch go.
 *
 * <p>{@link #flush} reaches the channel only when something was written through this writer since the
 * last flush: a relay flushes at every batch end on both sides, and most of those find nothing to send.
 * So everything written to a target goes through its writer (or is flushed by whoever wrote it).
 */
public final class MessageWriter {
    private final ByteBufAllocator alloc;
    private ChannelOutboundInvoker target;
    private ByteBuf batch;
    private int start;
    private int end;
    /** Written to {@link #target} since its last flush. */
    private boolean unflushed;

    public MessageWriter(ChannelOutboundInvoker target, ByteBufAllocator alloc) {
        this.target = target;
        this.alloc = alloc;
    }

    /**
     * Where pgmux's writes enter a channel's pipeline: at the frame decoder, which sits right after the
     * transport (and TLS). The handlers after it only read, so a write or flush that starts there does not
     * walk past them, and does not touch their contexts, on every message.
     */
    public static ChannelOutboundInvoker entry(Channel channel) {
        ChannelHandlerContext decoder = channel.pipeline().context(FrameDecoder.class);
        return decoder != null ? decoder : channel;
    }

    /** Where the next messages go; what was written for the previous target goes out to it first. */
    public void target(ChannelOutboundInvoker target) {
        flush();
        this.target = target;
    }

    /** Passes on the message at {@code index} of the batch being handled, unchanged. */
    public void relay(ByteBuf batch, int index, int length) {
        if (this.batch == batch && end == index) {
            end += length;
            return;
        }
        emit();
        this.batch = batch;
        this.start = index;
        this.end = index + length;
    }

    /** Writes a message of its own (taking ownership of it) after everything gathered so far. */
    public void write(ByteBuf frame) {
        emit();
        target.write(frame, target.voidPromise());
        unflushed = true;
    }

    /** Writes what was gathered, if anything. */
    public void emit() {
        ByteBuf gathered = batch;
        if (gathered != null) {
            batch = null;
            target.write(gathered.retainedSlice(start, end - start), target.voidPromise());
            unflushed = true;
        }
    }

    /** Something was written to the target by other means and is not flushed yet: the next flush sends it. */
    public void writtenElsewhere() {
        unflushed = true;
    }

    /** Sends what was written since the last flush; nothing to send costs no trip through the pipeline. */
    public void flush() {
        emit();
        if (unflushed) {
            unflushed = false;
            target.flush();
        }
    }

    public ByteBufAllocator alloc() {
        return alloc;
    }
}
