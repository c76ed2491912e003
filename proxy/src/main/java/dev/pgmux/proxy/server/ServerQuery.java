package dev.pgmux.proxy.server;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.Query;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * Runs one simple query of pgmux's own on a server (a reset, or applying a client's settings) and swallows
 * its results. The future succeeds with null, or with the server's ErrorResponse if the query failed;
 * it fails if the server connection is lost. The server must be idle and owned by the caller.
 */
public final class ServerQuery implements ServerListener {
    private final EventLoop loop;
    private final Promise<ErrorResponse> done;
    private ErrorResponse error;

    private ServerQuery(EventLoop loop) {
        this.loop = loop;
        this.done = loop.newPromise();
    }

    public static Future<ErrorResponse> run(ServerConnection server, String sql, EventLoop loop) {
        ServerQuery query = new ServerQuery(loop);
        server.attach(query);
        // The client that had it may have paused its reads (backpressure) before leaving: the answer must come in.
        server.setAutoRead(true);
        server.writeAndFlush(FrontendCodec.encode(new Query(sql), server.channel().alloc()));
        return query.done;
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public void onServerFrame(ServerConnection server, ByteBuf frame) {
        try {
            byte tag = Frames.tag(frame);
            if (tag == ErrorResponse.TAG && error == null) {
                error = (ErrorResponse) BackendCodec.decode(frame);
            } else if (tag == 'Z') {
                server.attach(null);
                done.trySuccess(error);
            }
        } finally {
            frame.release();
        }
    }

    @Override
    public void onServerClosed(ServerConnection server, Throwable cause) {
        done.tryFailure(cause);
    }
}
