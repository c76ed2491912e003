package dev.pgmux.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOutboundInvoker;

/**
 * Writes protocol messages towards one side of a relay (a client's pipeline, or the server a client is
 * attached to). Messages that lie back to back in one batch and pass unchanged are gathered into a single
 * write: one trip through the pipeline, one buffer for the socket, rather than one per message. Whatever
 * is written otherwise goes out after what was gathered, so order holds.
 *
 * <p>The gathered run refers to the batch being handled, which lives only while it is: whoever relays
 * from a batch calls {@link #emit} before letting the batch go.
 */
public final class MessageWriter {
    private final ByteBufAllocator alloc;
    private ChannelOutboundInvoker target;
    private ByteBuf batch;
    private int start;
    private int end;

    public MessageWriter(ChannelOutboundInvoker target, ByteBufAllocator alloc) {
        this.target = target;
        this.alloc = alloc;
    }

    /** Where the next messages go; what was gathered for the previous target goes to it first. */
    public void target(ChannelOutboundInvoker target) {
        emit();
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
    }

    /** Writes what was gathered, if anything. */
    public void emit() {
        ByteBuf gathered = batch;
        if (gathered != null) {
            batch = null;
            target.write(gathered.retainedSlice(start, end - start), target.voidPromise());
        }
    }

    public void flush() {
        emit();
        target.flush();
    }

    public ByteBufAllocator alloc() {
        return alloc;
    }
}
