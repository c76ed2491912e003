package dev.pgmux.proxy.testing;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.pool.ServerPool;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Owns the lifecycle of a pgmux in front of {@link TestPostgres} for a test class:
 * {@code @RegisterExtension static final PgmuxExtension pgmux = new PgmuxExtension(tenant -> ...)} starts one
 * before the class's first test and stops it after the last ({@code @BeforeAll} methods already see it,
 * {@code @AfterAll} methods still do); {@link #perTest} starts a fresh one, of the same settings, for every
 * test. Tests that need settings of their own use {@link PgmuxHarness#start} in a try-with-resources block
 * instead.
 */
public final class PgmuxExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private final Supplier<PgmuxConfig> config;
    private final boolean perTest;
    private PgmuxHarness harness;
    /** The test or class that started {@link #harness}: the one whose end stops it. */
    private String startedBy;

    public PgmuxExtension() {
        this(UnaryOperator.identity());
    }

    /** One pgmux for the whole class, its tenant {@link PgmuxHarness#defaultTenant()} changed by {@code tenant}. */
    public PgmuxExtension(UnaryOperator<TenantConfig> tenant) {
        this(tenantConfig(tenant), false);
    }

    private PgmuxExtension(Supplier<PgmuxConfig> config, boolean perTest) {
        this.config = config;
        this.perTest = perTest;
    }

    /** One pgmux for the whole class, of a whole configuration (limits, TLS), built when the class starts. */
    public static PgmuxExtension perClass(Supplier<PgmuxConfig> config) {
        return new PgmuxExtension(config, false);
    }

    /** A fresh pgmux for each test: every test starts with no pool, no client and no cancel key in it. */
    public static PgmuxExtension perTest() {
        return perTest(UnaryOperator.identity());
    }

    public static PgmuxExtension perTest(UnaryOperator<TenantConfig> tenant) {
        return new PgmuxExtension(tenantConfig(tenant), true);
    }

    private static Supplier<PgmuxConfig> tenantConfig(UnaryOperator<TenantConfig> tenant) {
        // Built when pgmux starts, not when the test class loads: it needs TestPostgres running.
        return () -> PgmuxConfig.ephemeral(tenant.apply(PgmuxHarness.defaultTenant()));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!perTest) {
            start(context);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (!perTest) {
            stop(context);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (perTest) {
            start(context);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (perTest) {
            stop(context);
        }
    }

    private void start(ExtensionContext context) {
        // JUnit calls a class's extensions for its @Nested classes too: they share the enclosing class's pgmux.
        if (harness == null) {
            harness = PgmuxHarness.start(config.get());
            startedBy = context.getUniqueId();
        }
    }

    private void stop(ExtensionContext context) {
        if (harness != null && context.getUniqueId().equals(startedBy)) {
            try {
                harness.close();
            } finally {
                harness = null;
                startedBy = null;
            }
        }
    }

    public PgmuxHarness get() {
        if (harness == null) {
            throw new IllegalStateException(perTest ? "no pgmux running: one runs from before each test to after it"
                    : "no pgmux running: it runs from before the class's first test to after its last");
        }
        return harness;
    }

    /** The pool of {@code role} on database postgres, if a client of that role ever needed one. */
    public Optional<ServerPool> pool(TestRole role) {
        return get().pool(role);
    }
}
