package dev.pgmux.protocol;

import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.Authentication;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.backend.BackendMessage;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.NegotiateProtocolVersion;
import dev.pgmux.protocol.message.backend.NoticeResponse;
import dev.pgmux.protocol.message.backend.ParameterStatus;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.protocol.message.frontend.CancelRequest;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.GssEncRequest;
import dev.pgmux.protocol.message.frontend.PasswordMessage;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.protocol.message.frontend.SaslInitialResponse;
import dev.pgmux.protocol.message.frontend.SaslResponse;
import dev.pgmux.protocol.message.frontend.SslRequest;
import dev.pgmux.protocol.message.frontend.StartupMessage;
import dev.pgmux.protocol.message.frontend.Sync;
import dev.pgmux.protocol.message.frontend.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static dev.pgmux.protocol.testing.Buffers.drain;
import static dev.pgmux.protocol.testing.Inbound.concat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded fuzzing of framing and decoding: random bytes and mutations of valid messages must either
 * decode or be refused with a {@link ProtocolException} (wrapped in a {@link DecoderException} by the
 * pipeline). Any other exception fails with the input that caused it; the leak check covers the buffers.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProtocolFuzzTest {
    private static final int ITERATIONS = 2_000;
    private static final int MAX_SIZE = 512;

    private static final List<byte[]> STARTUP_PACKETS = List.of(
            frontend(new StartupMessage(StartupMessage.PROTOCOL_3_0, Map.of("user", "alice", "database", "shop"))),
            frontend(new StartupMessage(StartupMessage.PROTOCOL_3_0 + 2, Map.of("user", "bob", "_pq_.x", "1"))),
            frontend(SslRequest.INSTANCE),
            frontend(GssEncRequest.INSTANCE),
            frontend(new CancelRequest(42, 0x1234_5678)));

    private static final List<byte[]> TAGGED = List.of(
            frontend(new PasswordMessage("secret")),
            frontend(new SaslInitialResponse("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII))),
            frontend(new SaslInitialResponse("SCRAM-SHA-256", null)),
            frontend(new SaslResponse("c=biws,r=abc,p=xyz".getBytes(StandardCharsets.US_ASCII))),
            frontend(new Query("SELECT 1; SELECT 'é'")),
            frontend(Sync.INSTANCE),
            frontend(Terminate.INSTANCE),
            backend(Authentication.Ok.INSTANCE),
            backend(new Authentication.Md5Password(new byte[] {1, 2, 3, 4})),
            backend(new Authentication.Sasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))),
            backend(new Authentication.SaslContinue("r=abc,s=c2FsdA==,i=4096".getBytes(StandardCharsets.US_ASCII))),
            backend(new Authentication.SaslFinal("v=xyz".getBytes(StandardCharsets.US_ASCII))),
            backend(new ParameterStatus("client_encoding", "UTF8")),
            backend(new BackendKeyData(7, 8)),
            backend(ReadyForQuery.IN_TRANSACTION),
            backend(ErrorResponse.fatal("57P01", "terminating connection")),
            backend(NoticeResponse.warning("25P01", "no transaction")),
            backend(new NegotiateProtocolVersion(0, List.of("_pq_.a", "_pq_.b"))));

    private static final List<Function<ByteBuf, ?>> TAGGED_DECODERS = List.of(
            BackendCodec::decode, FrontendCodec::decodePassword, FrontendCodec::decodeSaslInitialResponse,
            FrontendCodec::decodeSaslResponse, FrontendCodec::decodeQuery);

    private final Random random = new Random(0x5EED_F00DL);
    private int decoded;
    private int refused;

    @Test
    void randomBytesThroughTheTaggedDecoder() {
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] bytes = randomBytes(1);
            feed(FrameDecoder.State.MESSAGES, bytes, i);
        }
        assertThat(refused).isPositive();
    }

    @Test
    void randomBytesThroughTheStartupDecoder() {
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] bytes = randomBytes(0);
            feed(FrameDecoder.State.STARTUP, bytes, i);
        }
        assertThat(refused).isPositive();
    }

    @Test
    void mutatedMessagesThroughTheDecoders() {
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] tagged = mutate(pick(TAGGED), 1);
            feed(FrameDecoder.State.MESSAGES, concat(tagged, frontend(Sync.INSTANCE)), i);
            byte[] startup = mutate(pick(STARTUP_PACKETS), 0);
            feed(FrameDecoder.State.STARTUP, concat(startup, pick(TAGGED)), i);
        }
        assertThat(decoded).isPositive();
        assertThat(refused).isPositive();
    }

    @Test
    void mutatedMessagesStraightIntoTheDecodeFunctions() {
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] tagged = mutate(pick(TAGGED), 1);
            if (tagged.length >= 5) { // a whole frame always has its header
                for (Function<ByteBuf, ?> decoder : TAGGED_DECODERS) {
                    decodeFrame(tagged, decoder, i);
                }
            }
            byte[] startup = mutate(pick(STARTUP_PACKETS), 0);
            if (startup.length >= 8) { // the frame decoder guarantees a length and a code
                decodeFrame(startup, FrontendCodec::decodeStartup, i);
            }
        }
        assertThat(decoded).isPositive();
        assertThat(refused).isPositive();
    }

    /** Feeds {@code bytes} in random fragments through a FrameDecoder and decodes every frame it emits. */
    private void feed(FrameDecoder.State state, byte[] bytes, int iteration) {
        FrameDecoder frames = new FrameDecoder(state, MAX_SIZE, MAX_SIZE);
        EmbeddedChannel channel = new EmbeddedChannel(frames, new DecodeEveryFrame(frames, iteration));
        int at = 0;
        while (at < bytes.length) {
            int size = Math.min(bytes.length - at, 1 + random.nextInt(64));
            ByteBuf fragment = ByteBufAllocator.DEFAULT.buffer(size).writeBytes(bytes, at, size);
            at += size;
            try {
                channel.writeInbound(fragment);
            } catch (DecoderException e) {
                if (!(e.getCause() instanceof ProtocolException)) {
                    throw unexpected(e, bytes, iteration);
                }
                refused++;
            } catch (RuntimeException e) {
                throw unexpected(e, bytes, iteration);
            }
        }
        channel.finishAndReleaseAll();
    }

    private void decodeFrame(byte[] bytes, Function<ByteBuf, ?> decoder, int iteration) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
        try {
            decoder.apply(frame);
            decoded++;
        } catch (ProtocolException e) {
            refused++;
        } catch (RuntimeException e) {
            throw unexpected(e, bytes, iteration);
        } finally {
            frame.release();
        }
    }

    /** Stands in for the handlers: decodes each frame with every decode function that could apply to it. */
    private final class DecodeEveryFrame extends ChannelInboundHandlerAdapter {
        private final FrameDecoder frames;
        private final int iteration;

        DecodeEveryFrame(FrameDecoder frames, int iteration) {
            this.frames = frames;
            this.iteration = iteration;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                byte[] bytes = ByteBufUtil.getBytes(frame);
                if (frames.state() == FrameDecoder.State.STARTUP) {
                    decodeFrame(bytes, FrontendCodec::decodeStartup, iteration);
                    if (bytes.length >= 8 && bytes[4] == 0 && bytes[5] == 3) { // protocol 3.x: a StartupMessage
                        frames.startupDone();
                    }
                } else {
                    for (Function<ByteBuf, ?> decoder : TAGGED_DECODERS) {
                        decodeFrame(bytes, decoder, iteration);
                    }
                }
            } finally {
                frame.release();
            }
        }
    }

    private byte[] randomBytes(int lengthOffset) {
        byte[] bytes = new byte[random.nextInt(300)];
        random.nextBytes(bytes);
        if (random.nextBoolean() && bytes.length >= lengthOffset + 4) {
            // A plausible length, so that framing gets past the length check more often than not.
            int length = random.nextInt(bytes.length + 8);
            bytes[lengthOffset] = 0;
            bytes[lengthOffset + 1] = 0;
            bytes[lengthOffset + 2] = (byte) (length >>> 8);
            bytes[lengthOffset + 3] = (byte) length;
        }
        return bytes;
    }

    /** One to three random edits: change, insert, delete or append bytes, truncate, or shift the length. */
    private byte[] mutate(byte[] valid, int lengthOffset) {
        byte[] bytes = valid.clone();
        for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
            int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
            bytes = switch (random.nextInt(6)) {
                case 0 -> {
                    if (bytes.length > 0) {
                        bytes[at] = (byte) random.nextInt(256);
                    }
                    yield bytes;
                }
                case 1 -> Arrays.copyOf(bytes, at);
                case 2 -> concat(bytes, fewRandomBytes());
                case 3 -> concat(Arrays.copyOf(bytes, at), new byte[] {(byte) random.nextInt(256)},
                        Arrays.copyOfRange(bytes, at, bytes.length));
                case 4 -> bytes.length == 0 ? bytes : concat(Arrays.copyOf(bytes, at), Arrays.copyOfRange(bytes, at + 1, bytes.length));
                default -> {
                    if (bytes.length >= lengthOffset + 4) {
                        bytes[lengthOffset + 3] += (byte) (random.nextInt(13) - 6); // low byte of the length
                    }
                    yield bytes;
                }
            };
        }
        return bytes;
    }

    private byte[] fewRandomBytes() {
        byte[] bytes = new byte[1 + random.nextInt(8)];
        random.nextBytes(bytes);
        return bytes;
    }

    private byte[] pick(List<byte[]> corpus) {
        return corpus.get(random.nextInt(corpus.size()));
    }

    private static AssertionError unexpected(Throwable e, byte[] input, int iteration) {
        return new AssertionError("iteration " + iteration + ": " + e + " for input " + ByteBufUtil.hexDump(input), e);
    }

    private static byte[] frontend(FrontendMessage message) {
        return drain(FrontendCodec.encode(message, ByteBufAllocator.DEFAULT));
    }

    private static byte[] backend(BackendMessage message) {
        return drain(BackendCodec.encode(message, ByteBufAllocator.DEFAULT));
    }
}
