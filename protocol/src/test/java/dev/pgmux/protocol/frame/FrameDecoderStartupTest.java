package dev.pgmux.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static dev.pgmux.protocol.testing.Inbound.concat;
import static dev.pgmux.protocol.testing.Inbound.drain;
import static dev.pgmux.protocol.testing.Inbound.write;
import static dev.pgmux.protocol.testing.Inbound.writeByteByByte;
import static dev.pgmux.protocol.testing.Inbound.writeFragmented;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link FrameDecoder} in the startup phase: untagged int32 length (counting itself) + payload. */
class FrameDecoderStartupTest {
    private static final int MAX_STARTUP = 64;

    // int32 8 | int32 80877103   (SSLRequest)
    private static final byte[] SSL_REQUEST = wire().int32(8).int32(80877103).build();
    // int32 20 | int32 196608 (3.0) | "user\0" "alice\0" | "\0"
    private static final byte[] STARTUP = wire().int32(20).int32(196608).cstring("user").cstring("alice").int8(0).build();
    // 'Q' | int32 13 | "SELECT 1\0"
    private static final byte[] QUERY = wire().tag('Q').int32(13).cstring("SELECT 1").build();
    // 'X' | int32 4   (Terminate)
    private static final byte[] TERMINATE = wire().tag('X').int32(4).build();

    private final FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, 1024, MAX_STARTUP);
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder, new EndsStartupOnStartupMessage(decoder));

    @Test
    void framesAStartupMessageThenTaggedMessagesOfTheSameRead() {
        write(channel, concat(STARTUP, QUERY, TERMINATE));

        assertThat(drain(channel)).containsExactly(STARTUP, QUERY, TERMINATE);
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.MESSAGES);
        assertFalse(channel.finish());
    }

    @Test
    void framesTheStartupPhaseFedByteByByte() {
        writeByteByByte(channel, concat(SSL_REQUEST, STARTUP, QUERY, TERMINATE));

        assertThat(drain(channel)).containsExactly(SSL_REQUEST, STARTUP, QUERY, TERMINATE);
        assertFalse(channel.finish());
    }

    @Test
    void framesTheStartupPhaseFedInRandomFragments() {
        Random random = new Random(7L);
        for (int round = 0; round < 50; round++) {
            FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, 1024, MAX_STARTUP);
            EmbeddedChannel channel = new EmbeddedChannel(decoder, new EndsStartupOnStartupMessage(decoder));

            writeFragmented(channel, concat(SSL_REQUEST, STARTUP, QUERY, TERMINATE), random, 1 + random.nextInt(30));

            assertThat(drain(channel)).as("round %d", round).containsExactly(SSL_REQUEST, STARTUP, QUERY, TERMINATE);
            assertFalse(channel.finish());
        }
    }

    @Test
    void staysInTheStartupPhaseAfterAnSslRequest() {
        write(channel, SSL_REQUEST);

        assertThat(drain(channel)).containsExactly(SSL_REQUEST);
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.STARTUP);

        write(channel, STARTUP);

        assertThat(drain(channel)).containsExactly(STARTUP);
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.MESSAGES);
        assertFalse(channel.finish());
    }

    @Test
    void framesOnePacketAtATimeSoTheHandlerCanSwitchState() {
        // Without a handler calling startupDone(), every packet is an untagged startup packet.
        FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, 1024, MAX_STARTUP);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);

        write(channel, concat(SSL_REQUEST, STARTUP, SSL_REQUEST));

        assertThat(drain(channel)).containsExactly(SSL_REQUEST, STARTUP, SSL_REQUEST);
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.STARTUP);
        assertFalse(channel.finish());
    }

    @Test
    void reportsTheBytesLeftAfterAPacket() {
        // An SSLRequest with the first 3 bytes of a StartupMessage behind it, in one read.
        FrameDecoder decoder = new FrameDecoder(FrameDecoder.State.STARTUP, 1024, MAX_STARTUP);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);

        write(channel, concat(SSL_REQUEST, new byte[] {0, 0, 0}));

        assertThat(drain(channel)).containsExactly(SSL_REQUEST);
        assertThat(decoder.bufferedBytes()).isEqualTo(3);
        assertFalse(channel.finish());
    }

    @Test
    void acceptsAPacketOfExactlyTheMaximumSize() {
        // int32 64 | int32 196608 | "user\0" | 49 x 'a' | "\0" | "\0"
        byte[] largest = wire().int32(64).int32(196608).cstring("user").text("a".repeat(49)).int8(0).int8(0).build();
        assertThat(largest).hasSize(MAX_STARTUP);

        write(channel, largest);

        assertThat(drain(channel)).containsExactly(largest);
        assertFalse(channel.finish());
    }

    @Test
    void refusesAPacketOverTheMaximumWithoutWaitingForItsBytes() {
        // int32 65 (only the length has arrived)
        assertThatThrownBy(() -> write(channel, wire().int32(MAX_STARTUP + 1).build()))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .hasMessage("invalid length of startup packet: 65");
        assertThat(decoder.state()).isEqualTo(FrameDecoder.State.FAILED);

        write(channel, concat(STARTUP, QUERY));

        assertThat(channel.inboundMessages()).as("nothing after the error").isEmpty();
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 4, 0, -1, Integer.MIN_VALUE})
    void refusesALengthShorterThanAVersionCode(int length) {
        // int32 length < 8 | int32 196608
        byte[] packet = wire().int32(length).int32(196608).build();

        assertThatThrownBy(() -> write(channel, packet))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .hasMessage("invalid length of startup packet: " + length);
        assertFalse(channel.finish());
    }

    @Test
    void emitsNothingForATruncatedPacket() {
        write(channel, new byte[] {0, 0, 0});
        write(channel, new byte[] {20, 0, 3, 0, 0, 'u'});

        assertThat(channel.inboundMessages()).isEmpty();
        assertThat(decoder.bufferedBytes()).isEqualTo(9);
        assertFalse(channel.finish());
    }

    /** Stands in for the login handler: the StartupMessage (protocol 3.x) ends the startup phase. */
    private static final class EndsStartupOnStartupMessage extends ChannelInboundHandlerAdapter {
        private final FrameDecoder decoder;

        EndsStartupOnStartupMessage(FrameDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            if (decoder.state() == FrameDecoder.State.STARTUP && packet.getInt(packet.readerIndex() + 4) >>> 16 == 3) {
                decoder.startupDone();
            }
            ctx.fireChannelRead(packet);
        }
    }
}
