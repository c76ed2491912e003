package dev.pgmux.protocol.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Feeds bytes into an {@link EmbeddedChannel} the way a socket would, and drains what came out. */
public final class Inbound {
    private Inbound() {}

    /** Writes {@code bytes} as one read, in a pooled (leak-tracked) buffer. */
    public static void write(EmbeddedChannel channel, byte[] bytes) {
        channel.writeInbound(ByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes));
    }

    /** Writes {@code bytes} one byte per read. */
    public static void writeByteByByte(EmbeddedChannel channel, byte[] bytes) {
        for (byte b : bytes) {
            write(channel, new byte[] {b});
        }
    }

    /** Writes {@code bytes} in reads of random sizes between 1 and {@code maxFragment}. */
    public static void writeFragmented(EmbeddedChannel channel, byte[] bytes, Random random, int maxFragment) {
        int at = 0;
        while (at < bytes.length) {
            int size = Math.min(bytes.length - at, 1 + random.nextInt(maxFragment));
            write(channel, Arrays.copyOfRange(bytes, at, at + size));
            at += size;
        }
    }

    /** Reads every inbound message, which must be a ByteBuf, copies its bytes and releases it. */
    public static List<byte[]> drain(EmbeddedChannel channel) {
        List<byte[]> frames = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            ByteBuf frame = (ByteBuf) message;
            try {
                frames.add(ByteBufUtil.getBytes(frame));
            } finally {
                frame.release();
            }
        }
        return frames;
    }

    /** The concatenation of several messages, as one stream. */
    public static byte[] concat(byte[]... messages) {
        int length = 0;
        for (byte[] message : messages) {
            length += message.length;
        }
        byte[] stream = new byte[length];
        int at = 0;
        for (byte[] message : messages) {
            System.arraycopy(message, 0, stream, at, message.length);
            at += message.length;
        }
        return stream;
    }
}
