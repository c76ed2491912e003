package dev.pgmux.protocol.message.frontend;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Decodes the frontend messages pgmux reads and encodes the ones it sends upstream. */
public final class FrontendCodec {
    private FrontendCodec() {}

    public static final byte PASSWORD_TAG = 'p';

    /**
     * Decodes an untagged startup-phase packet (length included): StartupMessage, SSLRequest,
     * GSSENCRequest or CancelRequest.
     */
    public static FrontendMessage decodeStartup(ByteBuf packet) {
        ByteBuf in = packet.duplicate();
        if (in.readableBytes() < 8) {
            throw ProtocolException.closeSilently("invalid length of startup packet: " + in.readableBytes());
        }
        in.skipBytes(4);
        int code = in.readInt();
        switch (code) {
            case SslRequest.CODE -> {
                Frames.requireConsumed(in, "SSLRequest");
                return SslRequest.INSTANCE;
            }
            case GssEncRequest.CODE -> {
                Frames.requireConsumed(in, "GSSENCRequest");
                return GssEncRequest.INSTANCE;
            }
            case CancelRequest.CODE -> {
                Frames.requireReadable(in, 8, "CancelRequest");
                CancelRequest cancel = new CancelRequest(in.readInt(), in.readInt());
                return cancel;
            }
            case PeerCancelRequest.CODE -> {
                Frames.requireReadable(in, 8, "PeerCancelRequest");
                return new PeerCancelRequest(in.readInt(), in.readInt());
            }
            default -> {
                if (code >>> 16 != 3) {
                    throw new ProtocolException(dev.pgmux.protocol.SqlState.FEATURE_NOT_SUPPORTED,
                            "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xFFFF)
                                    + ": server supports 3.0 to 3.0");
                }
                Map<String, String> parameters = new LinkedHashMap<>();
                boolean terminated = false;
                while (in.isReadable()) {
                    String name = Frames.readCString(in);
                    if (name.isEmpty()) {
                        terminated = true;
                        break;
                    }
                    if (!in.isReadable()) {
                        break;
                    }
                    parameters.put(name, Frames.readCString(in));
                }
                if (!terminated) {
                    throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
                }
                Frames.requireConsumed(in, "startup packet");
                return new StartupMessage(code, parameters);
            }
        }
    }

    public static PasswordMessage decodePassword(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, PASSWORD_TAG, "password");
        String password = Frames.readCString(in);
        Frames.requireConsumed(in, "password");
        return new PasswordMessage(password);
    }

    public static SaslInitialResponse decodeSaslInitialResponse(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, PASSWORD_TAG, "SASLInitialResponse");
        String mechanism = Frames.readCString(in);
        Frames.requireReadable(in, 4, "SASLInitialResponse");
        int length = in.readInt();
        if (length < -1) {
            throw new ProtocolException("invalid SASLInitialResponse message: negative length " + length);
        }
        byte[] data = null;
        if (length >= 0) {
            Frames.requireReadable(in, length, "SASLInitialResponse");
            data = new byte[length];
            in.readBytes(data);
        }
        Frames.requireConsumed(in, "SASLInitialResponse");
        return new SaslInitialResponse(mechanism, data);
    }

    public static SaslResponse decodeSaslResponse(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, PASSWORD_TAG, "SASLResponse");
        byte[] data = new byte[in.readableBytes()];
        in.readBytes(data);
        return new SaslResponse(data);
    }

    public static Query decodeQuery(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Query.TAG, "Query");
        String sql = Frames.readCString(in);
        Frames.requireConsumed(in, "Query");
        return new Query(sql);
    }

    public static Parse decodeParse(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Parse.TAG, "Parse");
        String name = Frames.readCString(in);
        String query = Frames.readCString(in);
        Frames.requireReadable(in, 2, "Parse");
        int count = in.readUnsignedShort();
        Frames.requireReadable(in, 4 * count, "Parse");
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = in.readInt();
        }
        Frames.requireConsumed(in, "Parse");
        return new Parse(name, query, types);
    }

    // --- the common case without strings: messages about the unnamed statement, passed through as they are.
    // Each looks at the message at {@code index} ({@code length} bytes, tag included) of a buffer that may
    // hold others around it, such as a read's batch. ---

    /**
     * For a Parse of the unnamed statement, the index in {@code buf} of its query's first byte (the query
     * ends at the next NUL); -1 for a named statement. Checks the layout as {@link #decodeParse} does.
     */
    public static int unnamedParseQuery(ByteBuf buf, int index, int length) {
        requireTag(buf, index, Parse.TAG, "Parse");
        int end = index + length;
        int nameEnd = nul(buf, index + Frames.HEADER, end, "Parse");
        int queryEnd = nul(buf, nameEnd + 1, end, "Parse");
        int at = queryEnd + 1;
        if (end - at < 2) {
            throw new ProtocolException("invalid Parse message: truncated");
        }
        int count = buf.getUnsignedShort(at);
        if (end - at - 2 != 4 * count) {
            throw new ProtocolException("invalid Parse message: " + count + " parameter types in "
                    + (end - at - 2) + " bytes");
        }
        return nameEnd == index + Frames.HEADER ? nameEnd + 1 : -1;
    }

    /** Whether a Bind is of the unnamed statement; checks its names as {@link #decodeBind} does. */
    public static boolean bindsUnnamedStatement(ByteBuf buf, int index, int length) {
        requireTag(buf, index, Bind.TAG, "Bind");
        int end = index + length;
        int portalEnd = nul(buf, index + Frames.HEADER, end, "Bind");
        return nul(buf, portalEnd + 1, end, "Bind") == portalEnd + 1;
    }

    /** Whether a Describe is of a portal or of the unnamed statement; checks it as {@link #decodeDescribe} does. */
    public static boolean describesPortalOrUnnamed(ByteBuf buf, int index, int length) {
        requireTag(buf, index, Describe.TAG, "Describe");
        int at = index + Frames.HEADER;
        int end = index + length;
        if (at >= end) {
            throw new ProtocolException("invalid Describe message: truncated");
        }
        byte kind = buf.getByte(at);
        if (kind != Describe.STATEMENT && kind != Describe.PORTAL) {
            throw new ProtocolException("invalid DESCRIBE message subtype " + kind);
        }
        int nameEnd = nul(buf, at + 1, end, "Describe");
        if (nameEnd != end - 1) {
            throw new ProtocolException("invalid Describe message: " + (end - 1 - nameEnd) + " trailing bytes");
        }
        return kind == Describe.PORTAL || nameEnd == at + 1;
    }

    private static int nul(ByteBuf frame, int from, int end, String message) {
        int at = from < end ? frame.indexOf(from, end, (byte) 0) : -1;
        if (at < 0) {
            throw new ProtocolException("invalid " + message + " message: string is not NUL-terminated");
        }
        return at;
    }

    private static void requireTag(ByteBuf frame, byte tag, String name) {
        requireTag(frame, frame.readerIndex(), tag, name);
    }

    private static void requireTag(ByteBuf buf, int index, byte tag, String name) {
        if (buf.getByte(index) != tag) {
            throw new ProtocolException("expected " + name + " message ('" + (char) tag + "'), got '"
                    + (char) buf.getByte(index) + "'");
        }
    }

    /** The portal and statement names of a Bind; the parameters are left alone. */
    public static Bind decodeBind(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Bind.TAG, "Bind");
        String portal = Frames.readCString(in);
        return new Bind(portal, Frames.readCString(in));
    }

    /** Parameter bytes up to this size are copied into a renamed Bind; larger ones are shared, not copied. */
    private static final int COPIED_BIND_BYTES = 1024;

    /**
     * The same Bind with another statement name: a new header followed by the original's parameter bytes,
     * copied when they are few, otherwise a retained slice of them (a composite buffer, nothing copied). The
     * caller still owns {@code frame}.
     */
    public static ByteBuf renameBindStatement(ByteBuf frame, String statement, io.netty.buffer.ByteBufAllocator allocator) {
        ByteBuf in = checkedPayload(frame, Bind.TAG, "Bind");
        String portal = Frames.readCString(in);
        Frames.readCString(in);
        if (in.readableBytes() <= COPIED_BIND_BYTES) {
            ByteBuf out = allocator.buffer(16 + portal.length() + statement.length() + in.readableBytes());
            try {
                int lengthIndex = Frames.beginMessage(out, Bind.TAG);
                Frames.writeCString(out, portal);
                Frames.writeCString(out, statement);
                out.writeBytes(in, in.readerIndex(), in.readableBytes());
                out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
                return out;
            } catch (RuntimeException e) {
                out.release();
                throw e;
            }
        }
        // Explicit bounds: retainedSlice() of a derived pooled slice does not honour its reader index.
        ByteBuf rest = in.retainedSlice(in.readerIndex(), in.readableBytes());
        ByteBuf header = allocator.buffer(16 + portal.length() + statement.length());
        try {
            int lengthIndex = Frames.beginMessage(header, Bind.TAG);
            Frames.writeCString(header, portal);
            Frames.writeCString(header, statement);
            header.setInt(lengthIndex, header.writerIndex() - lengthIndex + rest.readableBytes());
        } catch (RuntimeException e) {
            header.release();
            rest.release();
            throw e;
        }
        return allocator.compositeBuffer(2).addComponents(true, header, rest);
    }

    public static Describe decodeDescribe(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Describe.TAG, "Describe");
        Frames.requireReadable(in, 1, "Describe");
        byte kind = in.readByte();
        if (kind != Describe.STATEMENT && kind != Describe.PORTAL) {
            throw new ProtocolException("invalid DESCRIBE message subtype " + kind);
        }
        String name = Frames.readCString(in);
        Frames.requireConsumed(in, "Describe");
        return new Describe(kind, name);
    }

    public static Close decodeClose(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Close.TAG, "Close");
        Frames.requireReadable(in, 1, "Close");
        byte kind = in.readByte();
        if (kind != Close.STATEMENT && kind != Close.PORTAL) {
            throw new ProtocolException("invalid CLOSE message subtype " + kind);
        }
        String name = Frames.readCString(in);
        Frames.requireConsumed(in, "Close");
        return new Close(kind, name);
    }

    public static Execute decodeExecute(ByteBuf frame) {
        ByteBuf in = checkedPayload(frame, Execute.TAG, "Execute");
        String portal = Frames.readCString(in);
        Frames.requireReadable(in, 4, "Execute");
        int maxRows = in.readInt();
        Frames.requireConsumed(in, "Execute");
        return new Execute(portal, maxRows);
    }

    private static ByteBuf checkedPayload(ByteBuf frame, byte tag, String name) {
        if (Frames.tag(frame) != tag) {
            throw new ProtocolException("expected " + name + " message ('" + (char) tag + "'), got '"
                    + (char) Frames.tag(frame) + "'");
        }
        return Frames.payload(frame);
    }

    /** Encodes a message pgmux sends to a server (or, for CancelRequest, to a new server connection). */
    public static void encode(FrontendMessage message, ByteBuf out) {
        switch (message) {
            case StartupMessage m -> {
                int start = out.writerIndex();
                out.writeInt(0);
                out.writeInt(m.protocolVersion());
                m.parameters().forEach((k, v) -> {
                    Frames.writeCString(out, k);
                    Frames.writeCString(out, v);
                });
                out.writeByte(0);
                out.setInt(start, out.writerIndex() - start);
            }
            case SslRequest m -> out.writeInt(8).writeInt(SslRequest.CODE);
            case GssEncRequest m -> out.writeInt(8).writeInt(GssEncRequest.CODE);
            case CancelRequest m -> out.writeInt(16).writeInt(CancelRequest.CODE).writeInt(m.processId()).writeInt(m.secretKey());
            case PeerCancelRequest m -> out.writeInt(16).writeInt(PeerCancelRequest.CODE).writeInt(m.processId()).writeInt(m.secretKey());
            case PasswordMessage m -> {
                int at = Frames.beginMessage(out, PASSWORD_TAG);
                Frames.writeCString(out, m.password());
                Frames.endMessage(out, at);
            }
            case SaslInitialResponse m -> {
                int at = Frames.beginMessage(out, PASSWORD_TAG);
                Frames.writeCString(out, m.mechanism());
                if (m.data() == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(m.data().length).writeBytes(m.data());
                }
                Frames.endMessage(out, at);
            }
            case SaslResponse m -> {
                int at = Frames.beginMessage(out, PASSWORD_TAG);
                out.writeBytes(m.data());
                Frames.endMessage(out, at);
            }
            case Query m -> {
                int at = Frames.beginMessage(out, Query.TAG);
                Frames.writeCString(out, m.sql());
                Frames.endMessage(out, at);
            }
            case Parse m -> {
                int at = Frames.beginMessage(out, Parse.TAG);
                Frames.writeCString(out, m.name());
                Frames.writeCString(out, m.query());
                int[] types = m.parameterTypes();
                out.writeShort(types.length);
                for (int type : types) {
                    out.writeInt(type);
                }
                Frames.endMessage(out, at);
            }
            case Bind m -> encodeBind(out, m.portal(), m.statement()); // pgmux's own: no parameters
            case Describe m -> {
                int at = Frames.beginMessage(out, Describe.TAG);
                out.writeByte(m.kind());
                Frames.writeCString(out, m.name());
                Frames.endMessage(out, at);
            }
            case Execute m -> {
                int at = Frames.beginMessage(out, Execute.TAG);
                Frames.writeCString(out, m.portal());
                out.writeInt(m.maxRows());
                Frames.endMessage(out, at);
            }
            case Close m -> {
                int at = Frames.beginMessage(out, Close.TAG);
                out.writeByte(m.kind());
                Frames.writeCString(out, m.name());
                Frames.endMessage(out, at);
            }
            case Sync m -> out.writeByte(Sync.TAG).writeInt(4);
            case Flush m -> out.writeByte(Flush.TAG).writeInt(4);
            case Terminate m -> out.writeByte(Terminate.TAG).writeInt(4);
        }
    }

    /**
     * A Bind that pgmux makes itself: text parameters (a null is SQL NULL), every format the default (text),
     * as the {@link Bind} record never carries parameters (relayed Binds keep the client's bytes).
     */
    public static void encodeBind(ByteBuf out, String portal, String statement, String... textParameters) {
        int at = Frames.beginMessage(out, Bind.TAG);
        Frames.writeCString(out, portal);
        Frames.writeCString(out, statement);
        out.writeShort(0); // parameter formats: all text
        out.writeShort(textParameters.length);
        for (String value : textParameters) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                out.writeInt(bytes.length).writeBytes(bytes);
            }
        }
        out.writeShort(0); // result formats: all text
        Frames.endMessage(out, at);
    }

    /** Encodes into a new buffer from the allocator: for messages written on their own. */
    public static ByteBuf encode(FrontendMessage message, io.netty.buffer.ByteBufAllocator allocator) {
        ByteBuf out = allocator.buffer(64);
        try {
            encode(message, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
