package dev.pgmux.proxy.features;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.config.TlsMode;
import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link TlsRepliesCases} with TLS clients and a plaintext upstream (the main test Postgres). */
class TlsRepliesTest extends TlsRepliesCases {
    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.perClass(() -> PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
            .withTls(TlsConfig.selfSigned(TlsMode.REQUIRED)));

    @Override
    PgmuxHarness pgmux() {
        return pgmux.get();
    }
}
