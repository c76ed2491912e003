package dev.pgmux.protocol.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

import java.util.function.Consumer;
import java.util.function.Function;

/** Runs codec calls on pooled (hence leak-tracked) buffers and always releases them. */
public final class Buffers {
    private Buffers() {}

    /** What an encoder wrote into a fresh buffer. */
    public static byte[] written(Consumer<ByteBuf> encoder) {
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer();
        try {
            encoder.accept(out);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    /** The bytes of a buffer an encoder returned, which this releases. */
    public static byte[] drain(ByteBuf encoded) {
        try {
            return ByteBufUtil.getBytes(encoded);
        } finally {
            encoded.release();
        }
    }

    /**
     * Applies a decoder to a whole frame holding {@code bytes}, checking that it does not move the
     * frame's reader index (the caller may still forward the frame).
     */
    public static <T> T decoded(byte[] bytes, Function<ByteBuf, T> decoder) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
        try {
            T result = decoder.apply(frame);
            if (frame.readerIndex() != 0 || frame.readableBytes() != bytes.length) {
                throw new AssertionError("the decoder consumed its frame: reader index " + frame.readerIndex());
            }
            return result;
        } finally {
            frame.release();
        }
    }
}
