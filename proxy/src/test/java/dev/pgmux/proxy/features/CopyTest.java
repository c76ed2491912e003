package dev.pgmux.proxy.features;

import dev.pgmux.proxy.testing.PgmuxExtension;
import dev.pgmux.proxy.testing.PgmuxHarness;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link CopyCases} through a pgmux whose upstream is the main test Postgres, in plaintext. */
class CopyTest extends CopyCases {
    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(tenant -> tenant.withPoolSize(3));

    @Override
    PgmuxHarness pgmux() {
        return pgmux.get();
    }
}
