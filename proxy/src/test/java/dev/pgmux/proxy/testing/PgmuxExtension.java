package dev.pgmux.proxy.testing;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.pool.ServerPool;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Owns the lifecycle of one pgmux in front of {@link TestPostgres} for a test class:
 * {@code @RegisterExtension static final PgmuxExtension pgmux = new PgmuxExtension(tenant -> ...)} starts it
 * before the class's first test and stops it after the last. Tests that need a pgmux of their own (other
 * settings per test) use {@link PgmuxHarness#start} in a try-with-resources block instead.
 */
public final class PgmuxExtension implements BeforeAllCallback, AfterAllCallback {
    private final UnaryOperator<TenantConfig> tenant;
    private PgmuxHarness harness;

    public PgmuxExtension() {
        this(UnaryOperator.identity());
    }

    public PgmuxExtension(UnaryOperator<TenantConfig> tenant) {
        this.tenant = tenant;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        harness = PgmuxHarness.start(tenant);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (harness != null) {
            harness.close();
            harness = null;
        }
    }

    public PgmuxHarness get() {
        if (harness == null) {
            throw new IllegalStateException("pgmux is started before the class's first test");
        }
        return harness;
    }

    /** The pool of {@code role} on database postgres, if a client of that role ever needed one. */
    public Optional<ServerPool> pool(TestRole role) {
        return get().pool(role);
    }
}
