package dev.pgmux.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.SslMode;
import dev.pgmux.config.UpstreamTls;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.tls.UpstreamTlsContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The SSLRequest exchange before a server login, played byte by byte on an {@link EmbeddedChannel}. */
class UpstreamTlsNegotiationTest {

    /** What the handlers after the negotiation hear. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<Object> events = new ArrayList<>();
        final List<Throwable> failures = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            events.add(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failures.add(cause);
        }
    }

    private final Recorder recorder = new Recorder();

    private EmbeddedChannel connect(SslMode mode) {
        ServerTarget target = new ServerTarget(new PoolKey("acme", "db", "app"), "db.example.com", 5432, "db", "app",
                new Credentials.Password("secret"), Duration.ofSeconds(5), UpstreamTlsContext.build(UpstreamTls.of(mode)));
        return new EmbeddedChannel(new UpstreamTlsNegotiation(target), recorder);
    }

    private static String hex(ByteBuf written) {
        try {
            return ByteBufUtil.hexDump(written);
        } finally {
            written.release();
        }
    }

    private String failure() {
        assertThat(recorder.failures).hasSize(1);
        assertThat(recorder.failures.getFirst()).isInstanceOf(UpstreamException.class);
        return recorder.failures.getFirst().getMessage();
    }

    @Test
    void sendsAnSslRequestAsSoonAsConnected() {
        EmbeddedChannel channel = connect(SslMode.REQUIRE);
        assertThat(hex(channel.readOutbound())).isEqualTo("0000000804d2162f");
        assertThat(recorder.events).isEmpty();
        channel.finishAndReleaseAll();
    }

    @Test
    void bytesThatComeWithTheSAreRefused() {
        EmbeddedChannel channel = connect(SslMode.REQUIRE);
        hex(channel.readOutbound());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'S', 'R', 0, 0, 0, 8}));
        assertThat(failure()).isEqualTo("tenant acme: TLS with db.example.com:5432 failed: "
                + "received unencrypted data after SSL response");
        assertThat(channel.isOpen()).isFalse();
        assertThat(channel.pipeline().get(SslHandler.class)).isNull();
        assertThat(recorder.events).isEmpty();
        channel.finishAndReleaseAll();
    }

    @Test
    void anSStartsTheHandshakeWithTheSslHandlerFirst() {
        EmbeddedChannel channel = connect(SslMode.REQUIRE);
        hex(channel.readOutbound());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'S'}));
        assertThat(channel.pipeline().first()).isInstanceOf(SslHandler.class);
        ByteBuf clientHello = channel.readOutbound();
        assertThat(clientHello.getByte(0)).as("a TLS handshake record").isEqualTo((byte) 22);
        clientHello.release();
        assertThat(recorder.failures).isEmpty();
        channel.finishAndReleaseAll();
    }

    @ParameterizedTest
    @EnumSource(value = SslMode.class, names = {"REQUIRE", "VERIFY_CA", "VERIFY_FULL"})
    void anNFailsWhereTlsIsRequiredWithLibpqsWords(SslMode mode) {
        EmbeddedChannel channel = connect(mode);
        hex(channel.readOutbound());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'N'}));
        assertThat(failure()).endsWith("failed: server does not support SSL, but SSL was required");
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void anNUnderPreferGoesOnInPlaintext() {
        EmbeddedChannel channel = connect(SslMode.PREFER);
        hex(channel.readOutbound());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'N'}));
        assertThat(recorder.events).containsExactly(UpstreamTlsNegotiation.Event.NEGOTIATED);
        assertThat(channel.pipeline().get(UpstreamTlsNegotiation.class)).as("removed once done").isNull();
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void anyOtherAnswerIsAClearFailure() {
        EmbeddedChannel channel = connect(SslMode.PREFER);
        hex(channel.readOutbound());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'H', 'T', 'T', 'P'}));
        assertThat(failure()).endsWith("failed: received invalid response to SSL negotiation: 'H'");
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void aContextThatCouldNotBeBuiltFailsBeforeAnythingIsSent() {
        ServerTarget target = new ServerTarget(new PoolKey("acme", "db", "app"), "db.example.com", 5432, "db", "app",
                new Credentials.Password("secret"), Duration.ofSeconds(5), UpstreamTlsContext.build(UpstreamTls.of(SslMode.VERIFY_CA)
                .withRootCert("/nonexistent/root.crt")));
        EmbeddedChannel channel = new EmbeddedChannel(new UpstreamTlsNegotiation(target), recorder);
        assertThat((Object) channel.readOutbound()).isNull();
        assertThat(failure()).startsWith("tenant acme: TLS with db.example.com:5432 failed: cannot use sslrootcert: ")
                .doesNotContain("secret");
        channel.finishAndReleaseAll();
    }
}
