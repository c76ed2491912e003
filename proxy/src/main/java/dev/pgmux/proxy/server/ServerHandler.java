package dev.pgmux.proxy.server;

import dev.pgmux.protocol.auth.ScramClientSession;
import dev.pgmux.protocol.auth.ScramException;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.Authentication;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.backend.BackendMessage;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.PasswordMessage;
import dev.pgmux.protocol.message.frontend.SaslInitialResponse;
import dev.pgmux.protocol.message.frontend.SaslResponse;
import dev.pgmux.protocol.message.frontend.StartupMessage;
import dev.pgmux.proxy.log.Repeats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The inbound side of a server connection: first the upstream login (startup, whatever authentication
 * the server asks for, parameters, BackendKeyData, ReadyForQuery), then every message goes to the attached
 * {@link ServerListener}, after pgmux has noted the transaction status and reported parameters.
 */
final class ServerHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerHandler.class);

    private enum Phase { LOGIN, READY }

    private final ServerConnection connection;
    private final Promise<ServerConnection> ready;
    private final SecureRandom random;
    private final Repeats repeats;
    private Phase phase = Phase.LOGIN;
    private ScramClientSession scram;
    private ScheduledFuture<?> loginTimeout;
    private Throwable failure;

    ServerHandler(ServerConnection connection, Promise<ServerConnection> ready, SecureRandom random, Repeats repeats) {
        this.connection = connection;
        this.ready = ready;
        this.random = random;
        this.repeats = repeats;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ServerTarget target = connection.target();
        loginTimeout = ctx.executor().schedule(() -> failLogin(ctx, new UpstreamException(
                "login to upstream " + target.host() + ":" + target.port() + " timed out after "
                        + target.connectTimeout().toMillis() + "ms", null)),
                target.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        connection.watchPeer();
        if (ctx.pipeline().get(UpstreamTlsNegotiation.class) == null) {
            sendStartup(ctx);
        } // else once TLS is set up, or refused where plaintext will do (UpstreamTlsNegotiation)
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event == UpstreamTlsNegotiation.Event.NEGOTIATED) {
            sendStartup(ctx);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    private void sendStartup(ChannelHandlerContext ctx) {
        ServerTarget target = connection.target();
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", target.user());
        parameters.put("database", target.database());
        send(ctx, new StartupMessage(StartupMessage.PROTOCOL_3_0, parameters));
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf batch = (ByteBuf) msg; // whole messages, back to back
        int start = batch.readerIndex();
        int end = batch.writerIndex();
        try {
            while (phase == Phase.LOGIN && start < end && ctx.channel().isActive()) {
                int length = Frames.length(batch, start);
                note(batch, start);
                loginMessage(ctx, batch.retainedSlice(start, length));
                start += length;
            }
            if (start == end || !ctx.channel().isActive()) {
                return;
            }
            ServerListener listener = connection.listener();
            if (listener != null && !listener.eventLoop().inEventLoop()) {
                int from = start;
                batch.retain();
                listener.eventLoop().execute(() -> {
                    try {
                        deliver(ctx, batch, from, end);
                    } finally {
                        batch.release();
                    }
                });
            } else {
                deliver(ctx, batch, start, end);
            }
        } finally {
            batch.release();
        }
    }

    /** Notes what the server tells about itself, whoever is attached: it decides reuse and reset. */
    private void note(ByteBuf batch, int at) {
        byte tag = batch.getByte(at);
        if (tag == ReadyForQuery.TAG && Frames.length(batch, at) == 6) {
            connection.transactionStatus(batch.getByte(at + 5));
        } else if (tag == ParameterStatus.TAG) {
            ParameterStatus status = (ParameterStatus) BackendCodec.decode(batch.slice(at, Frames.length(batch, at)));
            connection.parameterReported(status.name(), status.value());
        } else if (tag == ErrorResponse.TAG && phase != Phase.LOGIN
                && ((ErrorResponse) BackendCodec.decode(batch.slice(at, Frames.length(batch, at)))).isFatal()) {
            connection.hangingUp(); // a login's FATAL is the login's to handle (it may be tried again)
        }
    }

    /**
     * Hands messages to whoever is attached as each is reached: a listener may let the server go midway
     * (at its ReadyForQuery) and the next one take it. A message that arrives while nobody is attached (an
     * asynchronous notice, a FATAL error while idle) is pgmux's to judge.
     */
    private void deliver(ChannelHandlerContext ctx, ByteBuf batch, int start, int end) {
        ServerListener last = null;
        for (int at = start; at < end; ) {
            int length = Frames.length(batch, at);
            note(batch, at);
            ServerListener current = connection.listener();
            if (last != null && current != last) {
                last.onServerBatchEnd(connection);
            }
            last = current;
            if (current == null) {
                unexpectedWhileIdle(ctx, batch.retainedSlice(at, length));
            } else if (current.eventLoop().inEventLoop()) {
                current.onServerMessage(connection, batch, at, length);
            } else {
                ByteBuf frame = batch.retainedSlice(at, length);
                current.eventLoop().execute(() -> current.onServerFrame(connection, frame));
            }
            at += length;
        }
        if (last != null && last.eventLoop().inEventLoop()) {
            last.onServerBatchEnd(connection);
        }
    }

    private void loginMessage(ChannelHandlerContext ctx, ByteBuf frame) {
        try {
            login(ctx, frame);
        } catch (Exception e) {
            failLogin(ctx, e instanceof UpstreamException u ? u : UpstreamException.loginFailed("upstream login failed: " + e.getMessage(), e));
        } finally {
            frame.release();
        }
    }

    private void login(ChannelHandlerContext ctx, ByteBuf frame) throws Exception {
        BackendMessage message = BackendCodec.decode(frame);
        ServerTarget target = connection.target();
        switch (message) {
            case Authentication.Ok ok -> { }
            case Authentication.CleartextPassword p -> send(ctx, new PasswordMessage(UpstreamAuth.cleartext(target)));
            case Authentication.Md5Password p -> send(ctx, new PasswordMessage(UpstreamAuth.md5(target, p.salt())));
            case Authentication.Sasl sasl -> {
                if (!ScramClientSession.supports(sasl.mechanisms())) {
                    throw UpstreamException.loginFailed("upstream offers no supported SASL mechanism: " + sasl.mechanisms(), null);
                }
                scram = UpstreamAuth.scram(target, random);
                send(ctx, new SaslInitialResponse(scram.mechanism(), scram.clientFirstMessage()));
            }
            case Authentication.SaslContinue c -> {
                try {
                    send(ctx, new SaslResponse(requireScram().handleServerFirst(c.data())));
                } catch (ScramException e) {
                    throw UpstreamAuth.scramFailed(target, e);
                }
            }
            case Authentication.SaslFinal f -> {
                try {
                    requireScram().verifyServerFinal(f.data());
                } catch (ScramException e) {
                    throw UpstreamAuth.scramFailed(target, e);
                }
            }
            case Authentication.Unsupported u ->
                    throw UpstreamException.loginFailed("upstream asks for an unsupported authentication method (code " + u.code() + ")", null);
            case BackendKeyData key -> connection.backendKey(key);
            case ErrorResponse error -> throw new UpstreamException(error);
            case ReadyForQuery status -> {
                phase = Phase.READY;
                cancelLoginTimeout();
                ready.trySuccess(connection);
                return;
            }
            case null, default -> {
                // ParameterStatus (already noted), NoticeResponse, NegotiateProtocolVersion: nothing to do.
            }
        }
        ctx.flush();
    }

    private ScramClientSession requireScram() {
        if (scram == null) {
            throw new ProtocolException("upstream sent a SASL continuation without starting SASL");
        }
        return scram;
    }

    private void unexpectedWhileIdle(ChannelHandlerContext ctx, ByteBuf frame) {
        if (connection.state() == ServerConnection.State.CLOSING) {
            frame.release(); // the rest of what a departed client asked for, on a server being closed
            return;
        }
        try {
            BackendMessage message = BackendCodec.decode(frame);
            switch (message) {
                case ParameterStatus status -> { }
                case ErrorResponse error -> {
                    // A restarting upstream says so to every idle server: once per repeat interval, then a count.
                    ServerTarget target = connection.target();
                    repeats.info(log, "servers of " + target.host() + ":" + target.port() + " closed by the server "
                                    + "while idle (" + error.code() + ")",
                            "{} closed by the server while idle: {} {}", connection, error.code(), error.message());
                    ctx.close();
                }
                case null, default -> {
                    if (Frames.tag(frame) != 'N') {
                        log.warn("{} sent an unexpected '{}' message while idle; closing it", connection, (char) Frames.tag(frame));
                        ctx.close();
                    }
                }
            }
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    private void send(ChannelHandlerContext ctx, FrontendMessage message) {
        ctx.write(FrontendCodec.encode(message, ctx.alloc()), ctx.voidPromise());
    }

    private void failLogin(ChannelHandlerContext ctx, Exception cause) {
        cancelLoginTimeout();
        if (ready.tryFailure(cause)) {
            log.debug("login to {} failed: {}", connection.target(), cause.getMessage());
        }
        ctx.close();
    }

    private void cancelLoginTimeout() {
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
            loginTimeout = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ServerListener listener = connection.listener();
        if (phase == Phase.READY && listener != null) {
            if (listener.eventLoop().inEventLoop()) {
                listener.onServerReadComplete(connection);
            } else {
                listener.eventLoop().execute(() -> listener.onServerReadComplete(connection));
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ServerListener listener = connection.listener();
        boolean writable = ctx.channel().isWritable();
        if (listener != null) {
            if (listener.eventLoop().inEventLoop()) {
                listener.onServerWritabilityChanged(connection, writable);
            } else {
                listener.eventLoop().execute(() -> listener.onServerWritabilityChanged(connection, writable));
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelLoginTimeout();
        Throwable cause = failure != null ? failure : new UpstreamException("server closed the connection unexpectedly", null);
        ready.tryFailure(cause instanceof UpstreamException ? cause
                : new UpstreamException("upstream login failed: " + cause.getMessage(), cause));
        connection.closed();
        ServerListener listener = connection.listener();
        if (listener != null) {
            if (listener.eventLoop().inEventLoop()) {
                connection.attach(null);
                listener.onServerClosed(connection, cause);
            } else {
                // The server's last read may still be queued on the listener's loop (see channelRead): the close
                // follows it there, so what the server said before it hung up (a FATAL error, the replies before
                // it) reaches the client, and a listener that let the server go meanwhile is not told.
                listener.eventLoop().execute(() -> {
                    if (connection.listener() == listener) {
                        connection.attach(null);
                        listener.onServerClosed(connection, cause);
                    }
                });
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        log.debug("{} failed: {}", connection, cause.toString());
        ctx.close();
    }
}
