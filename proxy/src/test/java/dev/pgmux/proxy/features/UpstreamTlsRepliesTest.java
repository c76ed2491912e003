package dev.pgmux.proxy.features;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.SslMode;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgresTls;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link TlsRepliesCases} with TLS on both sides: TLS clients, and an upstream that speaks TLS only ({@code require}). */
class UpstreamTlsRepliesTest extends TlsRepliesCases {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(() -> {
        TestPostgresTls tls = TestPostgresTls.get();
        return PgmuxConfig.ephemeral(tls.tenant("127.0.0.1", tls.trusting(SslMode.REQUIRE)))
                .withTls(TlsConfig.selfSigned(TlsMode.REQUIRED));
    });

    @Override
    PgmuxHarness pgmux() {
        return pgmux.get();
    }
}
