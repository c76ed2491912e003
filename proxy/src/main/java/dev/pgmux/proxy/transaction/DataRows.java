package dev.pgmux.proxy.transaction;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads the text-format columns of a DataRow ('D') pgmux asked for itself. */
final class DataRows {
    private DataRows() {}

    /** The columns as strings, null for SQL NULL. */
    static List<String> textValues(ByteBuf frame) {
        ByteBuf in = Frames.payload(frame);
        Frames.requireReadable(in, 2, "DataRow");
        int columns = in.readUnsignedShort();
        List<String> values = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
            Frames.requireReadable(in, 4, "DataRow");
            int length = in.readInt();
            if (length < 0) {
                values.add(null);
                continue;
            }
            if (in.readableBytes() < length) {
                throw new ProtocolException("invalid DataRow message: truncated");
            }
            values.add(in.readCharSequence(length, StandardCharsets.UTF_8).toString());
        }
        return values;
    }
}
