package dev.pgmux.loadtest.cli;

/** The --help texts. */
final class Usage {
    private Usage() {}

    static final String MAIN = """
            pgmux-loadtest: load tests for Postgres and its poolers, with real pgjdbc and HikariCP traffic.

            usage: java -jar pgmux-loadtest.jar run   [options]   one simulation against one target
                   java -jar pgmux-loadtest.jar sweep [options]   one simulation across pool sizes and targets
                   java -jar pgmux-loadtest.jar scenarios         the built-in scenarios
                   java -jar pgmux-loadtest.jar --version

            run --help and sweep --help list the options. Exit status: 0 success, 1 an assertion failed
            (sweep: no pool size qualified), 2 bad usage, 3 the run could not start.
            """;

    private static final String LOAD = """
            What to run:
              --scenario NAME         select-only, tpcb, prepared, serverless, app-servers (see `scenarios`)
              --simulation CLASS|FILE your own dev.pgmux.loadtest.dsl.Simulation: a class on --classpath, or a
                                      .java file, compiled on the fly
              --classpath PATHS       jars and directories for --simulation, separated by ':'
            Load (D is a duration: 500ms, 30s, 2m, 1m30s; a bare number is seconds):
              --users N               closed model: N concurrent users (default 10 for persistent scenarios)
              --rate R                open model: R new users per second (default 20 for serverless, 50 for app-servers)
              --duration D            injection length (default 30s)
              --ramp D                linear ramp at the start, part of --duration (default 0)
              --think-time D          closed model: pause after each round (default 0)
              --warmup D              leading time left out of totals and assertions (default 0)
              --scale N               N branches, 10 N tellers, 100,000 N accounts (default 1)
              --prepare-threshold N   pgjdbc prepareThreshold (default pgjdbc's 5; 1 for `prepared`)
              --app-instances N       app-servers: application instances (default 2)
              --app-pool-size N       app-servers: HikariCP pool size per instance (default 5)
              --app-checkout-timeout D  app-servers: HikariCP connectionTimeout (default 30s)
              -D KEY=VALUE            a parameter for your simulation (repeatable; -DKEY=VALUE too)
              --max-users N           open model: most users running at once; more are dropped (default 10000)
              --max-duration D        stop users still running this long after the start (default: injection + 30s)
              --seed N                seed of randomized injection (default 1)
            Checks and output:
              --assert EXPR           repeatable: p99<50ms, p95<=20ms, max<1s, mean<5ms, errors<1%, rps>500;
                                      'REQUEST:p99<10ms' for one request, '*:p99<10ms' for each request
              --out DIR               report directory (default target/loadtest/COMMAND-NAME-TIMESTAMP)
              --name NAME             the name in the report (default: the scenario's or simulation's)
              --quiet                 no progress line per second
              --user NAME, --password PW   override the URL's
            pgmux, when this tool starts it:
              --pgmux-jar FILE        default proxy/target/pgmux.jar here or beside this tool's build
              --pgmux-set KEY=VALUE   a tenant setting, e.g. max_clients=5000, checkout_timeout=30s (repeatable)
              --pgmux-java-opts OPTS  JVM options for pgmux, e.g. '-Xmx1g'
            """;

    static final String RUN = """
            usage: java -jar pgmux-loadtest.jar run (--url URL | --target KIND --upstream URL) [options]

            Runs one simulation, prints progress every second, writes report.html and report.json.

            Target:
              --url URL               postgresql://USER:PASSWORD@HOST:PORT/DB or
                                      jdbc:postgresql://HOST:PORT/DB?user=...&password=... (Postgres, pgmux, any pooler)
              --target KIND           direct: --upstream itself; pgmux-session, pgmux-transaction: start pgmux in front
                                      of --upstream with --pool-size N (default 10) for this run
              --upstream URL          the Postgres, for --target
            """ + LOAD;

    static final String SWEEP = """
            usage: java -jar pgmux-loadtest.jar sweep --upstream URL [options]

            Runs one simulation against each target; pgmux targets once per pool size, each time with a pgmux
            started with that pool_size. Writes sweep.html and sweep.json, and a run report per point under
            points/. Recommends, per pgmux target, the smallest pool size whose throughput is within the margin
            of the best one and whose run met every assertion ('errors<1%' is added when no errors assertion
            is given). Default scenario: serverless (connect per request, which session mode serves too).

              --upstream URL          the Postgres: the `direct` target, and what pgmux is started in front of
              --targets LIST          direct, pgmux-session, pgmux-transaction, url:URL, NAME=url:URL
                                      (default direct,pgmux-session,pgmux-transaction)
              --pool-sizes LIST       pgmux pool_size values (default 2,4,8,16,32)
              --margin P              percent of the best throughput (default 10)
            """ + LOAD;
}
