package dev.pgmux.loadtest.dsl;

/**
 * A load test written in Java: scenarios, their injection profiles and the assertions, built with
 * {@link Dsl} in {@link #define} (named so that {@code Dsl.setUp(...)} stays usable inside it). The target (URL, user, password) comes from the command line, so one simulation measures
 * direct Postgres, pgmux or another pooler alike. Implementations need a public no-argument constructor.
 *
 * <pre>{@code
 * public class Checkout implements Simulation {
 *     public SimulationSetup define(SimulationContext ctx) {
 *         Scenario s = scenario("checkout").connect()
 *                 .feed(Feeders.randomInt("id", 1, 1000))
 *                 .prepared("find", "SELECT * FROM orders WHERE id = ?", attr("id"))
 *                 .disconnect();
 *         return setUp(s.injectOpen(constantUsersPerSec(ctx.doubleParam("rate", 50)).during(ctx.duration())))
 *                 .assertions(global().responseTime().p99().lt(50));
 *     }
 * }
 * }</pre>
 */
public interface Simulation {

    /** The simulation to run with these parameters; called once per run (a sweep calls it for every point). */
    SimulationSetup define(SimulationContext context);

    /** The name shown in reports. */
    default String name() {
        return getClass().getSimpleName();
    }
}
