package dev.pgmux.proxy.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;

/**
 * Writes what the server answers to a client. Messages that lie back to back in one batch from the server
 * and pass unchanged are gathered into a single write: one trip through the pipeline per batch rather than
 * one per message. Whatever is written otherwise goes out after what was gathered, so order holds.
 *
 * <p>The gathered run refers to the server's batch, which lives only while it is being delivered: the
 * relay calls {@link #emit} at the end of every batch.
 */
public final class ClientWriter {
    private final ChannelHandlerContext ctx;
    private ByteBuf batch;
    private int start;
    private int end;

    public ClientWriter(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Passes on the message at {@code index} of the batch being delivered, unchanged. */
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
        ctx.write(frame, ctx.voidPromise());
    }

    /** Writes what was gathered, if anything. */
    public void emit() {
        ByteBuf gathered = batch;
        if (gathered != null) {
            batch = null;
            ctx.write(gathered.retainedSlice(start, end - start), ctx.voidPromise());
        }
    }

    public void flush() {
        emit();
        ctx.flush();
    }

    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }
}
