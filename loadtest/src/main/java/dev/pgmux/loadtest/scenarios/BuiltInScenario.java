package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Driver;
import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Durations;
import dev.pgmux.loadtest.dsl.Feeder;
import dev.pgmux.loadtest.dsl.Population;
import dev.pgmux.loadtest.dsl.Scenario;
import dev.pgmux.loadtest.dsl.Simulation;
import dev.pgmux.loadtest.dsl.SimulationContext;
import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.dsl.Step;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static dev.pgmux.loadtest.dsl.Dsl.attr;
import static dev.pgmux.loadtest.dsl.Dsl.prepared;

/**
 * The ready-made simulations of {@code run --scenario NAME}, on the {@link PgbenchSchema} tables.
 *
 * <p>Parameters (from the command line): {@code users} (closed model: concurrent users) or {@code rate}
 * (open model: arrivals per second), {@code duration}, {@code ramp} (a linear ramp at the start, part of the
 * duration), {@code think-time} (closed model: pause after each round), {@code scale}, {@code prepare-threshold}
 * (pgjdbc's), and for {@code app-servers} {@code app-instances} and {@code app-pool-size}.
 *
 * <p>In the closed model a user of a <em>persistent</em> scenario connects once and repeats its work until
 * the end, like a pgbench client; a user of a <em>connect-per-request</em> scenario connects, works and
 * disconnects in every round. In the open model every arrival does one round, connect to disconnect.
 */
public enum BuiltInScenario {
    SELECT_ONLY("select-only", "pgbench -S: one indexed SELECT per round on a connection held for the whole run", false, 10, 0) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(Dsl.feed(ids(scale(ctx))), prepared("select account",
                    "SELECT abalance FROM loadtest_accounts WHERE aid = ?", attr("aid")));
        }
    },
    TPCB("tpcb", "pgbench's TPC-B-like transaction: 3 UPDATEs, a SELECT and an INSERT, on a connection held for the whole run", false, 10, 0) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(Dsl.feed(ids(scale(ctx))), Dsl.transaction("tpcb transaction",
                    prepared("update account", "UPDATE loadtest_accounts SET abalance = abalance + ? WHERE aid = ?", attr("delta"), attr("aid")),
                    prepared("select account", "SELECT abalance FROM loadtest_accounts WHERE aid = ?", attr("aid")),
                    prepared("update teller", "UPDATE loadtest_tellers SET tbalance = tbalance + ? WHERE tid = ?", attr("delta"), attr("tid")),
                    prepared("update branch", "UPDATE loadtest_branches SET bbalance = bbalance + ? WHERE bid = ?", attr("delta"), attr("bid")),
                    prepared("insert history", "INSERT INTO loadtest_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)",
                            attr("tid"), attr("bid"), attr("aid"), attr("delta"))));
        }
    },
    PREPARED("prepared", "three different prepared statements per round, named server-side from the first execution (prepareThreshold 1)", false, 10, 0) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(Dsl.feed(ids(scale(ctx))),
                    prepared("select account", "SELECT abalance FROM loadtest_accounts WHERE aid = ?", attr("aid")),
                    prepared("select tellers", "SELECT tid, tbalance FROM loadtest_tellers WHERE bid = ? ORDER BY tid", attr("bid")),
                    prepared("sum accounts", "SELECT count(*), sum(abalance) FROM loadtest_accounts WHERE aid BETWEEN ? AND ? + 100",
                            attr("aid"), attr("aid")));
        }

        @Override
        int defaultPrepareThreshold() {
            return 1;
        }
    },
    ORM("orm", "an ORM's mix of 27 parameterized requests (lookups, pages, joins, GROUP BY, short writes), Zipf-distributed;"
            + " unnamed statements (prepareThreshold 0), every result checked", false, 10, 0) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(OrmWorkload.step(PgbenchShape.of(scale(ctx)), ctx.doubleParam("skew", OrmWorkload.DEFAULT_SKEW)));
        }

        @Override
        int defaultPrepareThreshold() {
            return 0;
        }
    },
    SERVERLESS("serverless", "connect per request, as serverless functions do: login, one prepared SELECT, disconnect", true, 0, 20) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(Dsl.feed(ids(scale(ctx))), prepared("select account",
                    "SELECT abalance FROM loadtest_accounts WHERE aid = ?", attr("aid")));
        }
    },
    APP_SERVERS("app-servers", "app instances with a HikariCP pool each; per request: borrow, a SELECT and a short write transaction, give back", true, 0, 50) {
        @Override
        List<Step> body(SimulationContext ctx) {
            return List.of(Dsl.feed(ids(scale(ctx))),
                    prepared("select account", "SELECT abalance FROM loadtest_accounts WHERE aid = ?", attr("aid")),
                    Dsl.transaction("write transaction",
                            prepared("update account", "UPDATE loadtest_accounts SET abalance = abalance + ? WHERE aid = ?", attr("delta"), attr("aid")),
                            prepared("insert history", "INSERT INTO loadtest_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)",
                                    attr("tid"), attr("bid"), attr("aid"), attr("delta"))));
        }

        @Override
        Driver driver(SimulationContext ctx) {
            Driver.Hikari h = Dsl.hikari(ctx.intParam("app-instances", 2), ctx.intParam("app-pool-size", 5))
                    .connectionTimeout(ctx.durationParam("app-checkout-timeout", Duration.ofSeconds(30)));
            return ctx.param("prepare-threshold").map(v -> h.prepareThreshold(Integer.parseInt(v))).orElse(h);
        }
    };

    private final String id;
    private final String description;
    private final boolean connectPerRound;
    private final int defaultUsers;
    private final double defaultRate;

    BuiltInScenario(String id, String description, boolean connectPerRound, int defaultUsers, double defaultRate) {
        this.id = id;
        this.description = description;
        this.connectPerRound = connectPerRound;
        this.defaultUsers = defaultUsers;
        this.defaultRate = defaultRate;
    }

    /** The steps of one round, between connect and disconnect. */
    abstract List<Step> body(SimulationContext ctx);

    /** pgjdbc's own default is 5; -1 keeps it. */
    int defaultPrepareThreshold() {
        return -1;
    }

    Driver driver(SimulationContext ctx) {
        int threshold = ctx.intParam("prepare-threshold", defaultPrepareThreshold());
        return threshold >= 0 ? Dsl.jdbc().prepareThreshold(threshold) : Dsl.jdbc();
    }

    public String id() {
        return id;
    }

    public String description() {
        return description;
    }

    public static BuiltInScenario byId(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no built-in scenario \"" + id + "\"; there are: " + ids()));
    }

    public static String ids() {
        return String.join(", ", Arrays.stream(values()).map(BuiltInScenario::id).toList());
    }

    /**
     * How many client connections this scenario keeps open for the whole run: closed-model users of a
     * persistent scenario hold one each; app servers hold their full pools. 0 when connections are per request.
     */
    public int connectionsHeld(SimulationContext ctx) {
        if (this == APP_SERVERS) {
            return ctx.intParam("app-instances", 2) * ctx.intParam("app-pool-size", 5);
        }
        return connectPerRound || openModel(ctx) ? 0 : ctx.intParam("users", defaultUsers);
    }

    /** Whether {@code users} (closed model) or {@code rate} (open model) applies, with this scenario's default. */
    public boolean openModel(SimulationContext ctx) {
        boolean users = ctx.param("users").isPresent();
        boolean rate = ctx.param("rate").isPresent();
        if (users && rate) {
            throw new IllegalArgumentException("give --users (closed model) or --rate (open model), not both");
        }
        return rate || (!users && defaultUsers == 0);
    }

    /** This scenario as a simulation named after it. */
    public Simulation simulation() {
        BuiltInScenario self = this;
        return new Simulation() {
            @Override
            public SimulationSetup define(SimulationContext context) {
                return self.setUp(context);
            }

            @Override
            public String name() {
                return self.id;
            }
        };
    }

    public SimulationSetup setUp(SimulationContext ctx) {
        Duration duration = ctx.duration();
        Duration ramp = ctx.durationParam("ramp", Duration.ZERO);
        if (ramp.compareTo(duration) >= 0) {
            throw new IllegalArgumentException("--ramp (" + Durations.format(ramp) + ") must be shorter than --duration ("
                    + Durations.format(duration) + ")");
        }
        Duration steady = duration.minus(ramp);
        Duration think = ctx.durationParam("think-time", Duration.ZERO);
        List<Step> body = new ArrayList<>(body(ctx));
        Scenario scenario = Dsl.scenario(id);
        Population population;
        if (openModel(ctx)) {
            double rate = ctx.doubleParam("rate", defaultRate);
            scenario = scenario.connect().exec(body.toArray(Step[]::new)).disconnect();
            population = ramp.isZero() ? scenario.injectOpen(Dsl.constantUsersPerSec(rate).during(steady))
                    : scenario.injectOpen(Dsl.rampUsersPerSec(0).to(rate).during(ramp), Dsl.constantUsersPerSec(rate).during(steady));
        } else {
            int users = ctx.intParam("users", defaultUsers);
            if (!think.isZero()) {
                body.add(Dsl.pause(think));
            }
            if (connectPerRound) {
                List<Step> round = new ArrayList<>();
                round.add(Dsl.connect());
                round.addAll(body);
                round.add(round.size() - (think.isZero() ? 0 : 1), Dsl.disconnect());
                scenario = scenario.forever(round.toArray(Step[]::new));
            } else {
                scenario = scenario.connect().forever(body.toArray(Step[]::new)).disconnect();
            }
            population = ramp.isZero() ? scenario.injectClosed(Dsl.constantConcurrentUsers(users).during(steady))
                    : scenario.injectClosed(Dsl.rampConcurrentUsers(1).to(users).during(ramp),
                    Dsl.constantConcurrentUsers(users).during(steady));
        }
        return Dsl.setUp(population).driver(driver(ctx)).before(PgbenchSchema.ensure(scale(ctx)));
    }

    static int scale(SimulationContext ctx) {
        return ctx.intParam("scale", 1);
    }

    /** Random ids as pgbench draws them, plus a random delta in [-5000, 5000]. */
    static Feeder ids(int scale) {
        int accounts = scale * PgbenchSchema.ACCOUNTS_PER_BRANCH;
        int tellers = scale * PgbenchSchema.TELLERS_PER_BRANCH;
        return () -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            return Map.of("aid", r.nextInt(1, accounts + 1), "bid", r.nextInt(1, scale + 1),
                    "tid", r.nextInt(1, tellers + 1), "delta", r.nextInt(-5000, 5001));
        };
    }

    @Override
    public String toString() {
        return id.toLowerCase(Locale.ROOT);
    }
}
