package dev.pgmux.proxy.console;

import io.netty.buffer.ByteBuf;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * The column types the console answers with, as PgBouncer's RowDescription gives them: text, int4, int8 and
 * numeric (its statistics: no driver overflows a long it reads as numeric). Timestamps are text, as in
 * PgBouncer ({@code 2025-01-31 12:00:00 UTC}). Values are written in text, or in binary when a driver asks.
 */
public enum ColumnType {
    TEXT(25, -1), INT4(23, 4), INT8(20, 8), NUMERIC(1700, -1);

    private final int oid;
    private final int size;

    ColumnType(int oid, int size) {
        this.oid = oid;
        this.size = size;
    }

    public int oid() {
        return oid;
    }

    /** RowDescription's type size: fixed for the integers, -1 (variable) for the others. */
    public int size() {
        return size;
    }

    /** One value, length first; null is SQL NULL. Numbers may be any {@link Number}, text anything. */
    void write(ByteBuf out, Object value, boolean binary) {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        if (!binary || this == TEXT) {
            byte[] bytes = text(value).getBytes(StandardCharsets.UTF_8);
            out.writeInt(bytes.length).writeBytes(bytes);
            return;
        }
        long number = ((Number) value).longValue();
        switch (this) {
            case INT4 -> out.writeInt(4).writeInt((int) number);
            case INT8 -> out.writeInt(8).writeLong(number);
            default -> writeNumeric(out, number);
        }
    }

    private static String text(Object value) {
        return value instanceof Boolean b ? (b ? "1" : "0") : value.toString();
    }

    /** numeric's binary form of a whole number: base-10000 digits, most significant first. */
    private static void writeNumeric(ByteBuf out, long number) {
        BigInteger rest = BigInteger.valueOf(number).abs();
        BigInteger base = BigInteger.valueOf(10_000);
        java.util.ArrayDeque<Short> digits = new java.util.ArrayDeque<>();
        while (rest.signum() > 0) {
            BigInteger[] qr = rest.divideAndRemainder(base);
            digits.addFirst(qr[1].shortValue());
            rest = qr[0];
        }
        out.writeInt(8 + 2 * digits.size());
        out.writeShort(digits.size());
        out.writeShort(digits.isEmpty() ? 0 : digits.size() - 1); // weight of the first digit
        out.writeShort(number < 0 ? 0x4000 : 0x0000);
        out.writeShort(0); // display scale
        digits.forEach(out::writeShort);
    }
}
