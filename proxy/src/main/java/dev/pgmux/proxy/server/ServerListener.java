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

    /** The end of one read batch from the server: time to flush. */
    void onServerReadComplete(ServerConnection server);

    /** The server's channel became writable or unwritable (for backpressure). */
    void onServerWritabilityChanged(ServerConnection server, boolean writable);

    /** The server connection closed or failed; it is already gone from its pool. */
    void onServerClosed(ServerConnection server, Throwable cause);
}
