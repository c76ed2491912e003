package dev.pgmux.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits a byte stream into whole protocol messages without copying them.
 *
 * <p>Each message is handed on as a retained slice of the input that covers the whole message:
 * in the {@link State#STARTUP} phase an untagged {@code int32 length + payload}; afterwards
 * {@code tag + int32 length + payload}. Nothing is allocated for a message before its length
 * has been checked against the configured maximum; a bad length raises a
 * {@link ProtocolException} and the decoder stops reading for good.
 *
 * <p>A {@linkplain #batches batching} decoder hands on, per read, one retained slice holding every whole
 * message received so far, back to back: a relay that forwards most messages unchanged then writes a
 * read's worth of them at once instead of one by one.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    /** Which framing the next bytes use. */
    public enum State { STARTUP, MESSAGES, FAILED }

    private final int maxFrameSize;
    private final int maxStartupSize;
    private boolean batches;
    private State state;

    public FrameDecoder(State initial, int maxFrameSize, int maxStartupSize) {
        this(initial, maxFrameSize, maxStartupSize, false);
    }

    private FrameDecoder(State initial, int maxFrameSize, int maxStartupSize, boolean batches) {
        this.state = initial;
        this.maxFrameSize = maxFrameSize;
        this.maxStartupSize = maxStartupSize;
        this.batches = batches;
    }

    /** Tagged messages only, handed on as batches of whole messages (walk them with {@link Frames#length}). */
    public static FrameDecoder batches(int maxFrameSize) {
        return new FrameDecoder(State.MESSAGES, maxFrameSize, 0, true);
    }

    /** Called once the startup phase is over (after StartupMessage); the rest are tagged messages. */
    public void startupDone() {
        if (state == State.STARTUP) {
            state = State.MESSAGES;
        }
    }

    /**
     * From now on hands on batches (the startup phase must be over). Messages framed one by one before
     * this stay as they were: a single message is a batch of one.
     */
    public void batchMessages() {
        if (state == State.STARTUP) {
            throw new IllegalStateException("still in the startup phase");
        }
        batches = true;
    }

    public State state() {
        return state;
    }

    /** Bytes received but not yet framed (a client that sends data right after SSLRequest is suspicious). */
    public int bufferedBytes() {
        return actualReadableBytes();
    }

    /**
     * A batching decoder passes a read that holds whole messages only, with nothing left over from the reads
     * before (the usual case), on as it is: no slice and no cumulation. Anything else takes the general path,
     * which also reports bad lengths. Only while reads are on: the general path keeps the bookkeeping that
     * asks for another read when a paused channel's read gave no whole message.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (batches && state == State.MESSAGES && msg instanceof ByteBuf in && !internalBuffer().isReadable()
                && ctx.channel().config().isAutoRead() && wholeMessagesOnly(in)) {
            ctx.fireChannelRead(in);
            return;
        }
        super.channelRead(ctx, msg);
    }

    private boolean wholeMessagesOnly(ByteBuf in) {
        int at = in.readerIndex();
        int end = in.writerIndex();
        if (at == end) {
            return false;
        }
        while (end - at >= Frames.HEADER) {
            int length = in.getInt(at + 1);
            if (length < 4 || length > maxFrameSize) {
                return false;
            }
            at += length + 1;
        }
        return at == end;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // Loop ourselves so one call frames every whole message of a read: ByteToMessageDecoder
        // would otherwise call back once per message.
        for (;;) {
            switch (state) {
                case STARTUP -> {
                    if (in.readableBytes() < 4) {
                        return;
                    }
                    int length = in.getInt(in.readerIndex());
                    if (length < 8 || length > maxStartupSize) {
                        // Postgres logs this and hangs up: a client that sent anything but a startup packet
                        // (node-postgres's Terminate before its startup, an HTTP request) gets no reply.
                        state = State.FAILED;
                        in.skipBytes(in.readableBytes());
                        throw ProtocolException.closeSilently("invalid length of startup packet: " + length);
                    }
                    if (in.readableBytes() < length) {
                        return;
                    }
                    out.add(in.readRetainedSlice(length));
                    // The handler decides whether more startup packets follow (SSLRequest, CancelRequest):
                    // stop here so it can switch state before the next bytes are framed.
                    return;
                }
                case MESSAGES -> {
                    if (batches) {
                        int whole = wholeMessages(in);
                        if (whole > 0) {
                            out.add(in.readRetainedSlice(whole));
                        }
                        return;
                    }
                    int length = nextMessageLength(in, in.readerIndex(), in.writerIndex());
                    if (length < 0) {
                        return;
                    }
                    out.add(in.readRetainedSlice(length));
                }
                case FAILED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** The bytes from the reader index up to the end of the last whole message. */
    private int wholeMessages(ByteBuf in) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int at = start;
        for (int length; (length = nextMessageLength(in, at, end)) >= 0; ) {
            at += length;
        }
        return at - start;
    }

    /** The whole length (tag included) of the message at {@code at}, checked; -1 if not all of it is here. */
    private int nextMessageLength(ByteBuf in, int at, int end) {
        if (end - at < Frames.HEADER) {
            return -1;
        }
        int length = in.getInt(at + 1);
        if (length < 4) {
            fail(in, "invalid message length: " + length);
        }
        if (length > maxFrameSize) {
            fail(in, "message of " + length + " bytes exceeds the maximum of " + maxFrameSize
                    + " bytes (limits.max_frame_size)");
        }
        return end - at < length + 1 ? -1 : length + 1;
    }

    private void fail(ByteBuf in, String message) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        throw new ProtocolException(message);
    }
}
