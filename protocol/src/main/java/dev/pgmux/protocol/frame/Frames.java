package dev.pgmux.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.nio.charset.StandardCharsets;

/**
 * Helpers over a whole framed message as {@link FrameDecoder} produces it: tag at the reader index,
 * then the int32 length, then the payload. Nothing here copies the frame.
 */
public final class Frames {
    private Frames() {}

    /** Bytes before the payload of a tagged message. */
    public static final int HEADER = 5;

    public static byte tag(ByteBuf frame) {
        return frame.getByte(frame.readerIndex());
    }

    /** The whole length, tag included, of the message that starts at {@code index} of a batch of messages. */
    public static int length(ByteBuf batch, int index) {
        return batch.getInt(index + 1) + 1;
    }

    /** A view of the payload (no copy, no retain). */
    public static ByteBuf payload(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + HEADER, frame.readableBytes() - HEADER);
    }

    /** Reads a NUL-terminated UTF-8 string and moves past the NUL. */
    public static String readCString(ByteBuf buf) {
        int end = buf.forEachByte(ByteProcessor.FIND_NUL);
        if (end < 0) {
            throw new ProtocolException("string is not NUL-terminated");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static void writeCString(ByteBuf buf, String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    /** Writes the tag and a length placeholder; returns the index to pass to {@link #endMessage}. */
    public static int beginMessage(ByteBuf buf, byte tag) {
        buf.writeByte(tag);
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0);
        return lengthIndex;
    }

    /** Patches the length written by {@link #beginMessage}; the length counts itself but not the tag. */
    public static void endMessage(ByteBuf buf, int lengthIndex) {
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
    }

    /** Throws unless the whole payload has been consumed. */
    public static void requireConsumed(ByteBuf payload, String message) {
        if (payload.isReadable()) {
            throw new ProtocolException("invalid " + message + " message: " + payload.readableBytes() + " trailing bytes");
        }
    }

    public static void requireReadable(ByteBuf payload, int bytes, String message) {
        if (payload.readableBytes() < bytes) {
            throw new ProtocolException("invalid " + message + " message: truncated");
        }
    }
}
