package dev.pgmux.proxy.features;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.SslMode;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.TestPostgresTls;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link CopyCases} through a pgmux whose upstream speaks TLS only ({@code verify-full}). */
class UpstreamTlsCopyTest extends CopyCases {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(() -> {
        TestPostgresTls tls = TestPostgresTls.get();
        return PgmuxConfig.ephemeral(tls.tenant("localhost", tls.trusting(SslMode.VERIFY_FULL)).withPoolSize(3));
    });

    @Override
    PgmuxHarness pgmux() {
        return pgmux.get();
    }
}
