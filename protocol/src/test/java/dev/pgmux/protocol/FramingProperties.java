package dev.pgmux.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.frontend.Bind;
import dev.pgmux.protocol.message.frontend.Close;
import dev.pgmux.protocol.message.frontend.Describe;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.protocol.testing.LeakDetection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Properties of framing and decoding, checked on generated input (jqwik shrinks a failure to its smallest
 * case, to be kept as a regression test): whole messages survive any split of the stream; any bytes either
 * frame or are refused with a {@link ProtocolException}; the typed decoders never fail otherwise; what pgmux
 * encodes it decodes back. The number of tries per property is bounded (jqwik's default, 1,000), so each
 * runs in well under a second.
 */
class FramingProperties {
    private static final int MAX_FRAME = 64 * 1024;

    @AfterContainer
    static void noLeaks() {
        LeakDetection.detect();
        assertThat(LeakDetection.leaks()).as("ByteBuf leaks").isEmpty();
    }

    @Provide
    Arbitrary<byte[]> taggedMessage() {
        Arbitrary<Byte> tag = Arbitraries.of((byte) 'Q', (byte) 'P', (byte) 'B', (byte) 'D', (byte) 'E', (byte) 'S',
                (byte) 'H', (byte) 'C', (byte) 'd', (byte) 'c', (byte) 'X', (byte) 'Z', (byte) 'T');
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        return Combinators.combine(tag, payload).as((t, p) -> {
            byte[] message = new byte[5 + p.length];
            message[0] = t;
            message[1] = (byte) ((4 + p.length) >>> 24);
            message[2] = (byte) ((4 + p.length) >>> 16);
            message[3] = (byte) ((4 + p.length) >>> 8);
            message[4] = (byte) (4 + p.length);
            System.arraycopy(p, 0, message, 5, p.length);
            return message;
        });
    }

    @Property
    void wholeMessagesSurviveAnySplitOfTheStream(@ForAll("messages") List<byte[]> messages,
                                                 @ForAll @Size(max = 20) List<@IntRange(min = 1, max = 700) Integer> cuts) {
        byte[] stream = concat(messages);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(FrameDecoder.State.MESSAGES, MAX_FRAME, 0));
        feed(channel, stream, cuts);
        List<byte[]> framed = drain(channel);
        assertThat(framed).hasSameSizeAs(messages);
        for (int i = 0; i < messages.size(); i++) {
            assertThat(framed.get(i)).as("message %d", i).isEqualTo(messages.get(i));
        }
        assertThat(channel.finish()).isFalse();
    }

    @Property
    void batchesHoldExactlyTheStreamsWholeMessages(@ForAll("messages") List<byte[]> messages,
                                                   @ForAll @Size(max = 20) List<@IntRange(min = 1, max = 700) Integer> cuts) {
        byte[] stream = concat(messages);
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.batches(MAX_FRAME));
        feed(channel, stream, cuts);
        assertThat(concat(drain(channel))).isEqualTo(stream);
        assertThat(channel.finish()).isFalse();
    }

    @Provide
    Arbitrary<List<byte[]>> messages() {
        return taggedMessage().list().ofMaxSize(12);
    }

    @Property
    void anyBytesAfterLoginFrameOrAreRefusedWithAProtocolError(@ForAll @Size(max = 600) byte[] bytes,
                                                              @ForAll @Size(max = 10) List<@IntRange(min = 1, max = 200) Integer> cuts) {
        anyBytesFrameOrAreRefused(FrameDecoder.State.MESSAGES, bytes, cuts);
    }

    @Property
    void anyBytesAtStartupFrameOrAreRefusedWithAProtocolError(@ForAll @Size(max = 600) byte[] bytes,
                                                             @ForAll @Size(max = 10) List<@IntRange(min = 1, max = 200) Integer> cuts) {
        anyBytesFrameOrAreRefused(FrameDecoder.State.STARTUP, bytes, cuts);
    }

    private static void anyBytesFrameOrAreRefused(FrameDecoder.State state, byte[] bytes, List<Integer> cuts) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(state, 1024, 256));
        try {
            feed(channel, bytes, cuts);
        } catch (DecoderException e) {
            assertThat(e.getCause()).as("the only way to refuse input").isInstanceOf(ProtocolException.class);
        }
        drain(channel);
        channel.finishAndReleaseAll();
    }

    /** Every typed decoder, on any payload under any tag: a message or a ProtocolException, nothing else. */
    @Property
    void typedDecodersRefuseBadInputOnlyWithProtocolErrors(@ForAll("decoders") Function<ByteBuf, ?> decoder,
                                                          @ForAll("taggedMessage") byte[] message) {
        ByteBuf frame = Unpooled.wrappedBuffer(message);
        try {
            decoder.apply(frame);
        } catch (ProtocolException expected) {
            // refused as a protocol violation: the client gets 08P01
        } finally {
            frame.release();
        }
    }

    /** Found by the property above: the frame decoder never passes such a packet on, but the decoder must not trust it. */
    @Example
    void aStartupPacketShorterThanItsHeaderIsAProtocolError() {
        ByteBuf packet = Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 5, 1});
        try {
            assertThatThrownBy(() -> FrontendCodec.decodeStartup(packet)).isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("invalid length of startup packet");
        } finally {
            packet.release();
        }
    }

    @Provide
    Arbitrary<Function<ByteBuf, ?>> decoders() {
        return Arbitraries.of(FrontendCodec::decodeQuery, FrontendCodec::decodeParse, FrontendCodec::decodeBind,
                FrontendCodec::decodeDescribe, FrontendCodec::decodeClose, FrontendCodec::decodeExecute,
                FrontendCodec::decodePassword, FrontendCodec::decodeSaslInitialResponse, FrontendCodec::decodeSaslResponse,
                FrontendCodec::decodeStartup,
                (ByteBuf b) -> FrontendCodec.unnamedParseQuery(b, b.readerIndex(), b.readableBytes()),
                (ByteBuf b) -> FrontendCodec.bindsUnnamedStatement(b, b.readerIndex(), b.readableBytes()),
                (ByteBuf b) -> FrontendCodec.describesPortalOrUnnamed(b, b.readerIndex(), b.readableBytes()));
    }

    @Provide
    Arbitrary<String> name() {
        return Arbitraries.strings().withCharRange('\u0001', '\u00ff').ofMaxLength(20);
    }

    @Property
    void parseDescribeCloseAndQueryDecodeAsEncoded(@ForAll("name") String name, @ForAll("name") String text,
                                                   @ForAll @Size(max = 5) List<Integer> types) {
        int[] parameterTypes = types.stream().mapToInt(Integer::intValue).toArray();
        Parse parse = roundTrip(new Parse(name, text, parameterTypes), FrontendCodec::decodeParse);
        assertThat(parse.name()).isEqualTo(name);
        assertThat(parse.query()).isEqualTo(text);
        assertThat(parse.parameterTypes()).isEqualTo(parameterTypes);
        assertThat(roundTrip(new Describe(Describe.STATEMENT, name), FrontendCodec::decodeDescribe))
                .isEqualTo(new Describe(Describe.STATEMENT, name));
        assertThat(roundTrip(new Close(Close.PORTAL, name), FrontendCodec::decodeClose)).isEqualTo(new Close(Close.PORTAL, name));
        assertThat(roundTrip(new Query(text), FrontendCodec::decodeQuery)).isEqualTo(new Query(text));
    }

    /** A Bind renamed for a server keeps its portal and every parameter byte. */
    @Property
    void aRenamedBindKeepsItsPortalAndParameters(@ForAll("name") String portal, @ForAll("name") String statement,
                                                @ForAll("name") String serverName, @ForAll @Size(max = 200) byte[] parameters) {
        ByteBuf original = bind(portal, statement, parameters);
        ByteBuf renamed = FrontendCodec.renameBindStatement(original, serverName, ByteBufAllocator.DEFAULT);
        try {
            assertThat(FrontendCodec.decodeBind(renamed)).isEqualTo(new Bind(portal, serverName));
            ByteBuf reference = bind(portal, serverName, parameters);
            try {
                assertThat(ByteBufUtil.getBytes(renamed)).isEqualTo(ByteBufUtil.getBytes(reference));
            } finally {
                reference.release();
            }
        } finally {
            renamed.release();
            original.release();
        }
    }

    private static ByteBuf bind(String portal, String statement, byte[] rest) {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(cstring(portal));
        payload.writeBytes(cstring(statement));
        payload.writeBytes(rest);
        byte[] body = payload.toByteArray();
        ByteBuf frame = Unpooled.buffer(5 + body.length);
        frame.writeByte('B').writeInt(4 + body.length).writeBytes(body);
        return frame;
    }

    private static byte[] cstring(String s) {
        byte[] text = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return Arrays.copyOf(text, text.length + 1);
    }

    private static <T> T roundTrip(FrontendMessage message, Function<ByteBuf, T> decoder) {
        ByteBuf encoded = FrontendCodec.encode(message, ByteBufAllocator.DEFAULT);
        try {
            return decoder.apply(encoded);
        } finally {
            encoded.release();
        }
    }

    private static void feed(EmbeddedChannel channel, byte[] bytes, List<Integer> cuts) {
        int at = 0;
        for (int cut : cuts) {
            if (at >= bytes.length) {
                break;
            }
            int end = Math.min(bytes.length, at + cut);
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, end)));
            at = end;
        }
        if (at < bytes.length) {
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, bytes.length)));
        }
    }

    private static List<byte[]> drain(EmbeddedChannel channel) {
        List<byte[]> out = new ArrayList<>();
        for (ByteBuf frame; (frame = channel.readInbound()) != null; ) {
            out.add(ByteBufUtil.getBytes(frame));
            frame.release();
        }
        return out;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
