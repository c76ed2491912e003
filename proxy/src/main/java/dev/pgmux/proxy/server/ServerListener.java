package dev.pgmux.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

/**
 * Whoever a server connection is attached to: receives what the server sends.
 * Every callback runs on {@link #eventLoop()}.
 */
public interface ServerListener {
    EventLoop eventLoop();

    /** A whole message from the server; the listener owns (and must release or forward) the buffer. */
    void onServerFrame(ServerConnection server, ByteBuf frame);

    /**
     * The message at {@code index} (tag included, {@code length} bytes) of a batch the server sent. The caller
     * keeps the batch: a listener that holds on to the message retains it. By default it becomes a frame of
     * its own; relays gather messages they pass on unchanged and write them at {@link #onServerBatchEnd}.
     */
    default void onServerMessage(ServerConnection server, ByteBuf batch, int index, int length) {
        onServerFrame(server, batch.retainedSlice(index, length));
    }

    /** Every message of the batch has been delivered; whatever was gathered from it must be written now. */
    default void onServerBatchEnd(ServerConnection server) {}

    /** The end of one read batch from the server: time to flush. Nothing to do for a listener that writes nothing on. */
    default void onServerReadComplete(ServerConnection server) {}

    /** The server's channel became writable or unwritable (for backpressure); only relays care. */
    default void onServerWritabilityChanged(ServerConnection server, boolean writable) {}

    /** The server connection closed or failed; it is already gone from its pool. */
    void onServerClosed(ServerConnection server, Throwable cause);
}
