package dev.pgmux.loadtest.e2e;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Simulation;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.scenarios.OrmWorkload;
import dev.pgmux.loadtest.scenarios.PgbenchSchema;
import dev.pgmux.loadtest.scenarios.PgbenchShape;

import java.time.Duration;

/**
 * The orm mix with a deliberately wrong expectation: it believes in 11 tellers per branch where the tables have 10,
 * so every request that counts a branch's tellers must fail, and no other.
 */
public class WrongShapeOrm implements Simulation {

    @Override
    public SimulationSetup define(SimulationContext ctx) {
        PgbenchShape wrong = new PgbenchShape(1, PgbenchSchema.TELLERS_PER_BRANCH + 1, PgbenchSchema.ACCOUNTS_PER_BRANCH);
        return Dsl.setUp(Dsl.scenario("wrong orm").connect().forever(OrmWorkload.step(wrong, 0.0)).disconnect()
                        .injectClosed(Dsl.constantConcurrentUsers(2).during(ctx.durationParam("duration", Duration.ofSeconds(2)))))
                .driver(Dsl.jdbc().prepareThreshold(0))
                .before(PgbenchSchema.ensure(1));
    }
}
