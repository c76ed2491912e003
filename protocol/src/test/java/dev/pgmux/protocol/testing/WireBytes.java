package dev.pgmux.protocol.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes expected wire bytes by hand, field by field, so a test reads like the message layout in the
 * protocol docs: {@code wire().tag('Z').int32(5).int8('I')}. Lengths are given literally, never computed.
 */
public final class WireBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private WireBytes() {}

    public static WireBytes wire() {
        return new WireBytes();
    }

    public WireBytes tag(char tag) {
        return int8(tag);
    }

    public WireBytes int8(int value) {
        out.write(value);
        return this;
    }

    public WireBytes int32(int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    /** UTF-8 bytes followed by a NUL. */
    public WireBytes cstring(String value) {
        return text(value).int8(0);
    }

    /** UTF-8 bytes with no terminator. */
    public WireBytes text(String value) {
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public WireBytes bytes(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public byte[] build() {
        return out.toByteArray();
    }
}
