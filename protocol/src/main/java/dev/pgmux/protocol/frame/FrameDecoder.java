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
    private final boolean batches;
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

    public State state() {
        return state;
    }

    /** Bytes received but not yet framed (a client that sends data right after SSLRequest is suspicious). */
    public int bufferedBytes() {
        return actualReadableBytes();
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
                        fail(in, "invalid length of startup packet: " + length);
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
