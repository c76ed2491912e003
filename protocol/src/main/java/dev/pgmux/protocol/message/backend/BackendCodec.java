package dev.pgmux.protocol.message.backend;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Decodes the backend messages pgmux reads and encodes the ones it synthesises for clients. */
public final class BackendCodec {
    private BackendCodec() {}

    /**
     * Decodes a typed backend message from a whole frame, or returns null for a tag pgmux does not read
     * (the caller then passes the frame through untouched).
     */
    public static BackendMessage decode(ByteBuf frame) {
        byte tag = Frames.tag(frame);
        ByteBuf in = Frames.payload(frame);
        BackendMessage message = switch (tag) {
            case ReadyForQuery.TAG -> {
                Frames.requireReadable(in, 1, "ReadyForQuery");
                yield ReadyForQuery.of(in.readByte());
            }
            case Authentication.TAG -> decodeAuthentication(in);
            case ParameterStatus.TAG -> new ParameterStatus(Frames.readCString(in), Frames.readCString(in));
            case BackendKeyData.TAG -> {
                Frames.requireReadable(in, 8, "BackendKeyData");
                // Protocol 3.2 keys may be longer; pgmux speaks 3.0 upstream, so 4 bytes it is.
                yield new BackendKeyData(in.readInt(), in.readInt());
            }
            case ErrorResponse.TAG -> new ErrorResponse(decodeNotice(in, "ErrorResponse"));
            case NoticeResponse.TAG -> new NoticeResponse(decodeNotice(in, "NoticeResponse"));
            case NegotiateProtocolVersion.TAG -> {
                Frames.requireReadable(in, 8, "NegotiateProtocolVersion");
                int minor = in.readInt();
                int count = in.readInt();
                List<String> options = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    options.add(Frames.readCString(in));
                }
                yield new NegotiateProtocolVersion(minor, options);
            }
            case ParseComplete.TAG -> ParseComplete.INSTANCE;
            case BindComplete.TAG -> BindComplete.INSTANCE;
            case CloseComplete.TAG -> CloseComplete.INSTANCE;
            case CommandComplete.TAG -> new CommandComplete(Frames.readCString(in));
            default -> null;
        };
        if (message != null && tag != BackendKeyData.TAG) {
            Frames.requireConsumed(in, message.getClass().getSimpleName());
        }
        return message;
    }

    private static Authentication decodeAuthentication(ByteBuf in) {
        Frames.requireReadable(in, 4, "Authentication");
        int code = in.readInt();
        return switch (code) {
            case Authentication.OK -> Authentication.Ok.INSTANCE;
            case Authentication.CLEARTEXT_PASSWORD -> Authentication.CleartextPassword.INSTANCE;
            case Authentication.MD5_PASSWORD -> {
                Frames.requireReadable(in, 4, "AuthenticationMD5Password");
                byte[] salt = new byte[4];
                in.readBytes(salt);
                yield new Authentication.Md5Password(salt);
            }
            case Authentication.SASL -> {
                List<String> mechanisms = new ArrayList<>();
                for (;;) {
                    String mechanism = Frames.readCString(in);
                    if (mechanism.isEmpty()) {
                        break;
                    }
                    mechanisms.add(mechanism);
                }
                yield new Authentication.Sasl(mechanisms);
            }
            case Authentication.SASL_CONTINUE -> new Authentication.SaslContinue(readRest(in));
            case Authentication.SASL_FINAL -> new Authentication.SaslFinal(readRest(in));
            default -> {
                in.skipBytes(in.readableBytes());
                yield new Authentication.Unsupported(code);
            }
        };
    }

    private static byte[] readRest(ByteBuf in) {
        byte[] data = new byte[in.readableBytes()];
        in.readBytes(data);
        return data;
    }

    private static Notice decodeNotice(ByteBuf in, String message) {
        Map<Byte, String> fields = new LinkedHashMap<>();
        for (;;) {
            Frames.requireReadable(in, 1, message);
            byte field = in.readByte();
            if (field == 0) {
                return new Notice(fields);
            }
            fields.put(field, Frames.readCString(in));
        }
    }

    public static void encode(BackendMessage message, ByteBuf out) {
        switch (message) {
            case Authentication m -> encodeAuthentication(m, out);
            case ParameterStatus m -> {
                int at = Frames.beginMessage(out, ParameterStatus.TAG);
                Frames.writeCString(out, m.name());
                Frames.writeCString(out, m.value());
                Frames.endMessage(out, at);
            }
            case BackendKeyData m -> out.writeByte(BackendKeyData.TAG).writeInt(12).writeInt(m.processId()).writeInt(m.secretKey());
            case ReadyForQuery m -> out.writeByte(ReadyForQuery.TAG).writeInt(5).writeByte(m.status());
            case ErrorResponse m -> encodeNotice(ErrorResponse.TAG, m.notice(), out);
            case NoticeResponse m -> encodeNotice(NoticeResponse.TAG, m.notice(), out);
            case ParseComplete m -> out.writeByte(ParseComplete.TAG).writeInt(4);
            case BindComplete m -> out.writeByte(BindComplete.TAG).writeInt(4);
            case CloseComplete m -> out.writeByte(CloseComplete.TAG).writeInt(4);
            case CommandComplete m -> {
                int at = Frames.beginMessage(out, CommandComplete.TAG);
                Frames.writeCString(out, m.tag());
                Frames.endMessage(out, at);
            }
            case NegotiateProtocolVersion m -> {
                int at = Frames.beginMessage(out, NegotiateProtocolVersion.TAG);
                out.writeInt(m.newestMinorVersion());
                out.writeInt(m.unrecognizedOptions().size());
                m.unrecognizedOptions().forEach(option -> Frames.writeCString(out, option));
                Frames.endMessage(out, at);
            }
        }
    }

    private static void encodeAuthentication(Authentication message, ByteBuf out) {
        if (message instanceof Authentication.Unsupported u) {
            throw new IllegalArgumentException("cannot send authentication code " + u.code());
        }
        int at = Frames.beginMessage(out, Authentication.TAG);
        switch (message) {
            case Authentication.Ok m -> out.writeInt(Authentication.OK);
            case Authentication.CleartextPassword m -> out.writeInt(Authentication.CLEARTEXT_PASSWORD);
            case Authentication.Md5Password m -> out.writeInt(Authentication.MD5_PASSWORD).writeBytes(m.salt());
            case Authentication.Sasl m -> {
                out.writeInt(Authentication.SASL);
                m.mechanisms().forEach(mechanism -> Frames.writeCString(out, mechanism));
                out.writeByte(0);
            }
            case Authentication.SaslContinue m -> out.writeInt(Authentication.SASL_CONTINUE).writeBytes(m.data());
            case Authentication.SaslFinal m -> out.writeInt(Authentication.SASL_FINAL).writeBytes(m.data());
            case Authentication.Unsupported m -> throw new IllegalStateException("checked above");
        }
        Frames.endMessage(out, at);
    }

    private static void encodeNotice(byte tag, Notice notice, ByteBuf out) {
        int at = Frames.beginMessage(out, tag);
        notice.fields().forEach((field, value) -> {
            out.writeByte(field);
            Frames.writeCString(out, value);
        });
        out.writeByte(0);
        Frames.endMessage(out, at);
    }

    /** Encodes into a new buffer from the allocator: for messages written on their own. */
    public static ByteBuf encode(BackendMessage message, io.netty.buffer.ByteBufAllocator allocator) {
        ByteBuf out = allocator.buffer(64);
        try {
            encode(message, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Thrown type check used by callers that require a particular message. */
    public static ProtocolException unexpected(String expected, BackendMessage got) {
        return new ProtocolException("expected " + expected + ", got " + (got == null ? "an untyped message" : got));
    }
}
