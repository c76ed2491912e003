package dev.pgmux.loadtest.e2e;

import dev.pgmux.loadtest.dsl.Feeders;
import dev.pgmux.loadtest.dsl.Scenario;
import dev.pgmux.loadtest.dsl.Simulation;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.dsl.SimulationSetup;

import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.pgmux.loadtest.dsl.Dsl.*;

/**
 * A simulation written with the DSL as a user would: preparation, feeders, a loop, a transaction,
 * {@code saveAs}, a custom step, a request that fails, two populations. Its request counts are fixed, so the
 * test can check them exactly.
 */
public class ShopSimulation implements Simulation {

    @Override
    public SimulationSetup define(SimulationContext ctx) {
        Scenario shopper = scenario("shopper")
                .connect()
                .feed(Feeders.list(List.of(Map.of("sku", "apple"), Map.of("sku", "pear")), Feeders.Strategy.CIRCULAR))
                .repeat(3, prepared("add item", "INSERT INTO lt_items (sku, n) VALUES (?, ?)", attr("sku"), s -> (int) s.userId()))
                .exec(query("count items", "SELECT count(*) FROM lt_items").saveAs("items"))
                .exec(exec("check count", (connection, session) -> {
                    if (((Number) session.get("items")).longValue() < 3) {
                        throw new IllegalStateException("saveAs did not keep the count");
                    }
                }))
                .transaction("checkout",
                        prepared("add order", "INSERT INTO lt_items (sku, n) VALUES ('order', ?)", s -> (int) s.userId()),
                        query("read back", "SELECT max(n) FROM lt_items"))
                .pause(Duration.ofMillis(10), Duration.ofMillis(30))
                .query("broken", "SELECT * FROM lt_no_such_table")
                .disconnect();
        Scenario browser = scenario("browser").connect().query("browse", "SELECT sku FROM lt_items LIMIT 5").disconnect();
        return setUp(shopper.injectOpen(atOnceUsers(4), rampUsers(4).during(Duration.ofSeconds(1))),
                browser.injectClosed(constantConcurrentUsers(2).during(Duration.ofSeconds(1))))
                .before(c -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("DROP TABLE IF EXISTS lt_items");
                        st.execute("CREATE TABLE lt_items (sku text NOT NULL, n int NOT NULL)");
                    }
                })
                .assertions(details("add item").failedRequests().percent().lt(1), details("broken").failedRequests().percent().gt(99));
    }
}
