package dev.pgmux.proxy.model;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;

import java.io.IOException;
import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.fail;

/** The pgmux settings of the model tests, and running one fixed program with deterministic placement. */
final class ModelSupport {
    private ModelSupport() {
    }

    /** Two servers, so that consecutive batches can land on different ones; checkouts fail fast. */
    static UnaryOperator<TenantConfig> twoServers() {
        return twoServers(UnaryOperator.identity());
    }

    static UnaryOperator<TenantConfig> twoServers(UnaryOperator<TenantConfig> more) {
        return tenant -> more.apply(tenant.withPoolSize(2).withCheckoutTimeout(Duration.ofSeconds(5)));
    }

    /** Runs {@code program} with controlled placement; fails with both response streams if they differ. */
    static void assertSameAsDirect(PgmuxHarness harness, Program program) throws IOException {
        ProgramRunner.Result result;
        try (Placement placement = new Placement.Controlled(harness)) {
            result = new ProgramRunner(harness).run(program, placement);
        }
        if (!result.matched()) {
            fail(result.mismatch());
        }
    }
}
