package dev.pgmux.loadtest;

import dev.pgmux.loadtest.dsl.Scenario;
import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunListener;
import dev.pgmux.loadtest.engine.RunOptions;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Runner;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.stats.ErrorSummary;
import dev.pgmux.loadtest.stats.IntervalSnapshot;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.pgmux.loadtest.dsl.Dsl.constantConcurrentUsers;
import static dev.pgmux.loadtest.dsl.Dsl.exec;
import static dev.pgmux.loadtest.dsl.Dsl.pause;
import static dev.pgmux.loadtest.dsl.Dsl.prepared;
import static dev.pgmux.loadtest.dsl.Dsl.scenario;
import static dev.pgmux.loadtest.dsl.Dsl.setUp;

/**
 * {@code examples/cluster/} end to end: start.sh starts the metadata and upstream Postgres, three pgmux instances
 * and HAProxy; this test drives them through HAProxy with pgjdbc and the load-test engine, and stop.sh stops
 * them at the end, whatever happened.
 *
 * <ol>
 *   <li>A tenant created through the tenant API of one instance ({@code PUT $API_URL/tenants/ID} with
 *       {@code API_JWT}) serves logins on each instance (by its own port) within 1 s.</li>
 *   <li>A cancel request sent through HAProxy reaches its query wherever it runs (57014), also when HAProxy sends
 *       it to another instance than the query's (the instances' {@code pgmux_peer_cancels_forwarded_total}).</li>
 *   <li>100 clients (the engine's closed model: a client whose connection is lost is replaced by one that logs
 *       in again) write rows through HAProxy for 32 s, while a sampler counts the tenant's backends in
 *       {@code pg_stat_activity} every 100 ms. The cluster-wide {@code pool_size} is asserted: at most
 *       {@code POOL_SIZE} backends, whatever the number of instances.</li>
 *   <li>Meanwhile the metadata database is stopped for 10 s: a client holding a connection goes on querying,
 *       new logins go on, the load sees no error; a tenant written right after it is back serves logins on
 *       every instance within a bounded time.</li>
 *   <li>Then one instance is killed (SIGKILL): HAProxy marks it down, its clients log in again through HAProxy
 *       and at least 90 of the 100 clients commit again; its leases on the pool's slots stop counting within
 *       {@code cluster.instance_timeout} (20 s here), and the two others then hold all {@code POOL_SIZE}.</li>
 *   <li>Nothing is lost: every row a client was told was committed is in the table.</li>
 * </ol>
 *
 * Each part's verdict is collected and the test fails at the end listing every failed part with the numbers
 * observed, plus the last lines of each process's log; the state directory (logs, data) is then kept under
 * {@code target/cluster-example/}.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ClusterExampleTest {
    private static final int CLIENTS = 100;
    private static final int CLIENTS_RECOVERED = 90;
    private static final Duration LOAD = Duration.ofSeconds(32);
    private static final Duration OUTAGE = Duration.ofSeconds(10);
    private static final Duration TENANT_AT_ONCE = Duration.ofSeconds(1);
    private static final Duration TENANT_AFTER_OUTAGE = Duration.ofSeconds(20);
    private static final Duration CANCEL_WITHIN = Duration.ofSeconds(5);
    /** After the kill: the time HAProxy and the clients get before the recovery window starts. */
    private static final Duration RECOVERY = Duration.ofSeconds(6);
    private static final Duration MIN_RECOVERY_WINDOW = Duration.ofSeconds(3);
    /** A second upstream role, for the tenants the test writes: their servers stay out of the sampled count. */
    private static final String PROBE_ROLE = "cluster_probe";
    private static final String PROBE_PASSWORD = "cluster-probe-password";

    private final List<String> failures = new ArrayList<>();
    private final Map<String, String> observed = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @Test
    void clusterBehindHaproxy() throws Exception {
        Path root = repositoryRoot();
        Path run = Path.of("target", "cluster-example", "run-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(run);
        Cluster cluster = Cluster.start(root, run);
        String logs = "";
        Throwable unexpected = null;
        try {
            prepare(cluster);
            part("tenant created through the API serves logins on every instance within 1 s",
                    () -> tenantAtOnce(cluster));
            part("cancel through HAProxy", () -> cancelThroughHaproxy(cluster));
            part("load through HAProxy (pool limit, metadata outage, instance killed)", () -> load(cluster));
        } catch (Exception | AssertionError e) {
            unexpected = e;
            failures.add("the test itself: " + e);
        } finally {
            if (!failures.isEmpty()) {
                logs = cluster.logTails();
            }
            threads.shutdownNow();
            cluster.stop(!failures.isEmpty());
            System.out.println("cluster example, observed:\n" + observedText());
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " part(s) failed:\n  - " + String.join("\n  - ", failures)
                    + "\nobserved:\n" + observedText() + "\nstate kept in " + cluster.stateDir() + "\n" + logs, unexpected);
        }
    }

    // ---- the parts ------------------------------------------------------------------------------------------

    /** The tables the load writes, and the role the test's own tenants log in upstream as. */
    private void prepare(Cluster cluster) throws SQLException {
        try (Connection direct = cluster.direct(); Statement st = direct.createStatement()) {
            st.execute("CREATE ROLE " + PROBE_ROLE + " LOGIN PASSWORD '" + PROBE_PASSWORD + "'");
            st.execute("CREATE TABLE cluster_load (id bigserial PRIMARY KEY, vu bigint NOT NULL,"
                    + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
            st.execute("CREATE TABLE outage_log (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
            st.execute("GRANT ALL ON cluster_load, outage_log, cluster_load_id_seq TO " + cluster.get("UPSTREAM_USER"));
        }
    }

    private void tenantAtOnce(Cluster cluster) throws Exception {
        long[] millis = writeTenantAndAwaitLogins(cluster, "fresh", TENANT_AT_ONCE.multipliedBy(5));
        long worst = Arrays.stream(millis).max().orElseThrow();
        observed.put("new tenant: first login per instance after the API's PUT (ms)", Arrays.toString(millis));
        check(worst <= TENANT_AT_ONCE.toMillis(), "a new tenant served logins on every instance after " + worst
                + " ms (per instance " + Arrays.toString(millis) + "), more than " + TENANT_AT_ONCE.toMillis() + " ms");
    }

    private void cancelThroughHaproxy(Cluster cluster) throws Exception {
        List<String> attempts = new ArrayList<>();
        boolean crossed = false;
        // At least three (with round robin, one may well land on the query's own instance), until one crossed.
        for (int attempt = 1; attempt <= 6 && (attempt <= 3 || !crossed); attempt++) {
            double before = cancelsForwarded(cluster);
            try (Connection c = cluster.connect(cluster.target("CLUSTER_URL")); Statement st = c.createStatement()) {
                Future<SQLException> query = threads.submit(() -> {
                    try {
                        st.execute("SELECT pg_sleep(30)");
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                });
                Wait.until("SELECT pg_sleep(30) running upstream", Duration.ofSeconds(10),
                        () -> sleepersRunning(cluster) == 1);
                long sent = System.nanoTime();
                st.cancel();
                SQLException error;
                try {
                    error = query.get(CANCEL_WITHIN.toSeconds() + 5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // Closing the statement waits for the query: 30 s at most.
                    attempts.add("no answer within " + (CANCEL_WITHIN.toSeconds() + 5) + " s");
                    check(false, "cancel attempt " + attempt + ": the query was not cancelled (no answer within "
                            + (CANCEL_WITHIN.toSeconds() + 5) + " s; pgmux_peer_cancels_forwarded_total went from "
                            + before + " to " + cancelsForwarded(cluster) + ")");
                    break;
                }
                long millis = (System.nanoTime() - sent) / 1_000_000;
                boolean passedOn = cancelsForwarded(cluster) > before;
                crossed |= passedOn;
                String sqlState = error == null ? "none (the query completed)" : error.getSQLState();
                attempts.add(sqlState + " after " + millis + " ms" + (passedOn ? ", passed on by another instance" : ""));
                check("57014".equals(sqlState) && millis <= CANCEL_WITHIN.toMillis(), "cancel attempt " + attempt
                        + ": expected 57014 within " + CANCEL_WITHIN.toMillis() + " ms, got " + sqlState + " after " + millis + " ms");
            }
        }
        observed.put("cancels through HAProxy", attempts.toString());
        check(crossed, "no cancel went to another instance than its query in " + attempts.size()
                + " attempts (pgmux_peer_cancels_forwarded_total did not move)");
    }

    private void load(Cluster cluster) throws Exception {
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        Map<Long, Long> lastCommit = new ConcurrentHashMap<>();
        Scenario clients = scenario("clients").connect().forever(
                pause(Duration.ofMillis(100), Duration.ofMillis(300)),
                prepared("write", "INSERT INTO cluster_load (vu) SELECT ? FROM pg_sleep(0.005) RETURNING id",
                        session -> session.userId()).saveAs("row"),
                exec(session -> {
                    // Only after the INSERT's answer came back: the row is committed (autocommit).
                    if (session.contains("row") && session.get("row") instanceof Number id) {
                        acknowledged.add(id.longValue());
                        lastCommit.put(session.userId(), System.nanoTime());
                        session.set("row", null);
                    }
                }));
        SimulationSetup setup = setUp(clients.injectClosed(constantConcurrentUsers(CLIENTS).during(LOAD)));
        Target target = Target.parse(cluster.get("CLUSTER_URL")
                + "?connectTimeout=5&socketTimeout=30&ApplicationName=cluster-example-load", null, null);
        CountDownLatch started = new CountDownLatch(1);
        AtomicLong origin = new AtomicLong();
        List<IntervalSnapshot> intervals = new CopyOnWriteArrayList<>();
        Runner runner = new Runner(setup, target, RunOptions.DEFAULTS.withGrace(Duration.ofSeconds(10)), new RunListener() {
            @Override
            public void started(RunInfo info) {
                origin.set(System.nanoTime());
                started.countDown();
            }

            @Override
            public void interval(IntervalSnapshot snapshot, double plannedSeconds) {
                intervals.add(snapshot);
            }
        });

        try (Sampler sampler = new Sampler(cluster)) {
            CompletableFuture<RunResult> loadRun = CompletableFuture.supplyAsync(
                    () -> runner.run("cluster-example", "ClusterExampleTest", Map.of()), threads);
            check(started.await(30, TimeUnit.SECONDS), "the load did not start within 30 s");
            Wait.until("500 rows committed by the load", Duration.ofSeconds(20), () -> acknowledged.size() >= 500,
                    () -> acknowledged.size() + " rows; " + loadErrors(intervals));

            Outage outage = metadataOutage(cluster);
            long outageStart = outage.startNanos - origin.get();
            long outageEnd = outage.endNanos - origin.get();
            observed.put("metadata outage (s into the load)", String.format("%.1f to %.1f", outageStart / 1e9, outageEnd / 1e9));

            long[] afterOutage = writeTenantAndAwaitLogins(cluster, "after_outage", TENANT_AFTER_OUTAGE);
            observed.put("tenant written after the outage: first login per instance (ms)", Arrays.toString(afterOutage));

            long killedAt = killOneInstance(cluster);
            long killOffset = killedAt - origin.get();
            observed.put("instance pgmux-2 killed at (s into the load)", String.format("%.1f", killOffset / 1e9));
            Future<?> takeover = threads.submit(() -> {
                verifyTakeover(cluster, killedAt);
                return null;
            });

            RunResult result = loadRun.get(LOAD.toSeconds() + 60, TimeUnit.SECONDS);
            sampler.stop();
            verifyLoad(cluster, result, intervals, outageStart, outageEnd, killedAt, origin.get(), acknowledged, lastCommit);
            verifyPoolLimit(cluster, sampler);
            takeover.get(60, TimeUnit.SECONDS);
        }
    }

    /**
     * The killed instance's leases on the pool's servers stop counting within the instance timeout, and the two
     * others then hold all of the pool size between them (read in pgmux.slot_leases every 100 ms).
     */
    private void verifyTakeover(Cluster cluster, long killedAt) throws Exception {
        int poolSize = Integer.parseInt(cluster.get("POOL_SIZE"));
        Duration timeout = Duration.ofSeconds(20); // instance_timeout in start.sh's configurations
        String[] last = {"no reading"};
        try (Connection meta = cluster.connect(cluster.target("METADATA_URL"));
             PreparedStatement st = meta.prepareStatement("SELECT coalesce(sum(slots) FILTER (WHERE instance_id <> "
                     + "'pgmux-2'), 0), count(*) FILTER (WHERE instance_id = 'pgmux-2') FROM pgmux.slot_leases "
                     + "JOIN pgmux.lease_holders USING (instance_id) WHERE kind = 'servers' AND tenant = ? "
                     + "AND expires_at > now()")) {
            st.setString(1, cluster.get("TENANT_ID"));
            Wait.until("the others hold all " + poolSize + " slots, pgmux-2's lease expired", timeout.plusSeconds(5), () -> {
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    last[0] = "others hold " + rs.getInt(1) + ", pgmux-2's live leases " + rs.getInt(2);
                    return rs.getInt(1) == poolSize && rs.getInt(2) == 0;
                }
            }, () -> last[0]);
            long millis = (System.nanoTime() - killedAt) / 1_000_000;
            observed.put("slots of the killed instance taken over after (ms)", Long.toString(millis));
            // Free when its leases expire (at most the timeout after its last sync), taken at the others' next sync.
            check(millis <= timeout.toMillis() + 2_000, "the killed instance's slots were taken over after " + millis
                    + " ms, more than instance_timeout (" + timeout.toMillis() + " ms) and two seconds");
        } catch (AssertionError e) {
            check(false, e.getMessage());
        }
    }

    private record Outage(long startNanos, long endNanos) {}

    /**
     * Stops the metadata Postgres for {@link #OUTAGE}; meanwhile a client holding a connection through HAProxy
     * writes a numbered row every 100 ms and new logins through HAProxy are tried. Then starts it again.
     */
    private Outage metadataOutage(Cluster cluster) throws Exception {
        Target clusterTarget = cluster.target("CLUSTER_URL");
        int held = 0;
        int heldFailures = 0;
        String firstFailure = null;
        int logins = 0;
        int loginFailures = 0;
        try (Connection holder = cluster.connect(clusterTarget);
             PreparedStatement insert = holder.prepareStatement("INSERT INTO outage_log (seq) VALUES (?)")) {
            insert.setInt(1, ++held);
            insert.executeUpdate();
            long start = System.nanoTime();
            cluster.postgres("metadata", "stop");
            observed.put("metadata Postgres stopped in (ms)", Long.toString((System.nanoTime() - start) / 1_000_000));
            Wait.until("every instance reports pgmux_metadata_connected 0", Duration.ofSeconds(10),
                    () -> cluster.adminUrls().stream().allMatch(url -> metric(url, "pgmux_metadata_connected") == 0));
            long end = start + OUTAGE.toNanos();
            long next = System.nanoTime();
            while (System.nanoTime() < end) {
                try {
                    insert.setInt(1, held + 1);
                    insert.executeUpdate();
                    held++;
                } catch (SQLException e) {
                    heldFailures++;
                    firstFailure = firstFailure == null ? e.getSQLState() + " " + e.getMessage() : firstFailure;
                }
                if (held % 10 == 0) { // and a new login through HAProxy now and then
                    try (Connection fresh = cluster.connect(clusterTarget); Statement st = fresh.createStatement()) {
                        st.execute("SELECT 1");
                        logins++;
                    } catch (SQLException e) {
                        loginFailures++;
                        firstFailure = firstFailure == null ? "login: " + e.getSQLState() + " " + e.getMessage() : firstFailure;
                    }
                }
                next += TimeUnit.MILLISECONDS.toNanos(100);
                LockSupport.parkNanos(next - System.nanoTime());
            }
            long restart = System.nanoTime();
            cluster.postgres("metadata", "start");
            long back = System.nanoTime();
            observed.put("metadata Postgres started again in (ms)", Long.toString((back - restart) / 1_000_000));
            observed.put("during the outage: held connection's writes ok/failed, new logins ok/failed",
                    held + "/" + heldFailures + ", " + logins + "/" + loginFailures);
            check(heldFailures == 0 && loginFailures == 0 && held > OUTAGE.toSeconds() * 5, "during the metadata outage a"
                    + " held connection wrote " + held + " rows with " + heldFailures + " failures and new logins had "
                    + loginFailures + " failures of " + (logins + loginFailures) + (firstFailure == null ? "" : "; first: " + firstFailure));
            try (Connection direct = cluster.direct(); Statement st = direct.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM outage_log")) {
                rs.next();
                String rows = rs.getLong(1) + " rows, " + rs.getLong(2) + " distinct, " + rs.getLong(3) + ".." + rs.getLong(4);
                observed.put("outage_log", rows + " (acknowledged " + held + ")");
                check(rs.getLong(1) == held && rs.getLong(2) == held && rs.getLong(3) == 1 && rs.getLong(4) == held,
                        "outage_log should hold exactly rows 1.." + held + ", holds " + rows);
            }
            return new Outage(start, back);
        }
    }

    /** SIGKILLs the second instance by its pid and waits until HAProxy marks it down on both backends. */
    private long killOneInstance(Cluster cluster) throws Exception {
        long pid = Long.parseLong(cluster.get("INSTANCE_PIDS").trim().split("\\s+")[1]);
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("pgmux-2 (pid " + pid + ") is not running"));
        String commandLine = String.join(" ", Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).split("\0"));
        if (!commandLine.contains(cluster.stateDir().toString())) {
            throw new AssertionError("pid " + pid + " is not one of the cluster's instances: " + commandLine);
        }
        process.destroyForcibly(); // SIGKILL
        long killedAt = System.nanoTime();
        process.onExit().get(10, TimeUnit.SECONDS);
        try {
            Wait.until("HAProxy marks pgmux2 DOWN on both backends", Duration.ofSeconds(10),
                    () -> haproxyStatus(cluster, "pgmux_transaction", "pgmux2").startsWith("DOWN")
                            && haproxyStatus(cluster, "pgmux_session", "pgmux2").startsWith("DOWN"));
            observed.put("HAProxy marked pgmux2 down after (ms)", Long.toString((System.nanoTime() - killedAt) / 1_000_000));
        } catch (AssertionError e) {
            check(false, e.getMessage());
        }
        return killedAt;
    }

    private void verifyLoad(Cluster cluster, RunResult result, List<IntervalSnapshot> intervals, long outageStart,
                            long outageEnd, long killedAt, long origin, Set<Long> acknowledged, Map<Long, Long> lastCommit)
            throws SQLException {
        LatencyStats writes = result.stats().request("write").map(r -> r.stats()).orElse(LatencyStats.EMPTY);
        observed.put("load: writes ok/failed, clients started (100 + replacements)", writes.ok() + "/" + writes.errors()
                + ", " + result.generator().usersStarted());
        observed.put("load: errors", result.stats().errors().stream().limit(6)
                .map(e -> e.count() + " x " + e.key()).toList().toString());

        // The metadata outage: the load went on, without an error, from its start to a second after its end.
        long okInOutage = 0;
        long errorsInOutage = 0;
        for (IntervalSnapshot s : intervals) {
            if (s.endSeconds() * 1e9 > outageStart && s.startSeconds() * 1e9 < outageEnd + 1e9) {
                LatencyStats w = s.requests().getOrDefault("write", LatencyStats.EMPTY);
                okInOutage += w.ok();
                errorsInOutage += w.errors();
            }
        }
        observed.put("load during the metadata outage: writes ok/failed", okInOutage + "/" + errorsInOutage);
        check(errorsInOutage == 0 && okInOutage > 1000, "during the metadata outage the load should run without errors: "
                + okInOutage + " writes ok, " + errorsInOutage + " failed");

        // The kill: its clients failed, came back through HAProxy, and nearly every client committed again.
        check(writes.errors() > 0 || result.stats().errors().stream().mapToLong(ErrorSummary::count).sum() > 0,
                "killing an instance caused no error at all: were its clients really on it?");
        check(result.generator().usersStarted() > CLIENTS, "no client was replaced after the kill (users started: "
                + result.generator().usersStarted() + ")");
        long windowStart = killedAt + RECOVERY.toNanos();
        long windowEnd = origin + LOAD.toNanos();
        long recovered = lastCommit.values().stream().filter(t -> t >= windowStart).count();
        observed.put("clients that committed in the last " + String.format("%.1f", (windowEnd - windowStart) / 1e9)
                + " s (from 6 s after the kill)", Long.toString(recovered));
        check(windowEnd - windowStart >= MIN_RECOVERY_WINDOW.toNanos(), "the kill came too late in the load to see"
                + " the recovery: " + (windowEnd - windowStart) / 1_000_000 + " ms left");
        check(recovered >= CLIENTS_RECOVERED, "after the kill only " + recovered + " of the " + CLIENTS
                + " clients committed again (from " + RECOVERY.toSeconds() + " s after the kill to the end), expected at least "
                + CLIENTS_RECOVERED);

        // Nothing lost: every acknowledged row is there; a row more is a commit whose answer the kill cut off.
        Set<Long> rows = new HashSet<>();
        try (Connection direct = cluster.direct(); Statement st = direct.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM cluster_load")) {
            while (rs.next()) {
                rows.add(rs.getLong(1));
            }
        }
        Set<Long> missing = new HashSet<>(acknowledged);
        missing.removeAll(rows);
        long unacknowledged = rows.size() - (acknowledged.size() - missing.size());
        observed.put("cluster_load: rows, acknowledged, missing, unacknowledged", rows.size() + ", "
                + acknowledged.size() + ", " + missing.size() + ", " + unacknowledged);
        check(missing.isEmpty(), missing.size() + " acknowledged rows are missing from cluster_load, e.g. "
                + missing.stream().limit(5).toList());
        check(unacknowledged <= writes.errors(), unacknowledged + " rows in cluster_load no client was told of, more than"
                + " the " + writes.errors() + " failed writes");
    }

    private void verifyPoolLimit(Cluster cluster, Sampler sampler) {
        int poolSize = Integer.parseInt(cluster.get("POOL_SIZE"));
        observed.put("pg_stat_activity: backends of " + cluster.get("UPSTREAM_USER") + " on " + cluster.get("UPSTREAM_DB")
                + ": max, samples, samples above pool_size, failed samples",
                sampler.max.get() + ", " + sampler.samples.get() + ", " + sampler.above(poolSize) + ", " + sampler.failed.get());
        check(sampler.samples.get() >= 100, "the sampler read pg_stat_activity only " + sampler.samples.get() + " times");
        check(sampler.max.get() <= poolSize, "the tenant's pool_size is " + poolSize + " but " + sampler.max.get()
                + " backends of " + cluster.get("UPSTREAM_USER") + " were seen at once (" + sampler.above(poolSize)
                + " of " + sampler.samples.get() + " samples above " + poolSize + ")");
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    /**
     * Creates tenant {@code id} through the tenant API of the first instance (upstream login as {@link #PROBE_ROLE})
     * and tries a login on each instance's transaction port until it works; returns each instance's time from the
     * API's answer, in ms.
     */
    private long[] writeTenantAndAwaitLogins(Cluster cluster, String id, Duration max) throws Exception {
        String spec = String.format("{\"id\": \"%s\", \"upstream\": {\"host\": \"%s\", \"port\": %s, \"database\": \"%s\"},"
                        + " \"pool_size\": 2, \"users\": [{\"name\": \"%s\", \"password\": \"%s\"}]}",
                id, cluster.get("UPSTREAM_HOST"), cluster.get("UPSTREAM_PORT"), cluster.get("UPSTREAM_DB"), PROBE_ROLE, PROBE_PASSWORD);
        long committed;
        java.net.http.HttpResponse<String> put = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(cluster.get("API_URL") + "/tenants/" + id))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + cluster.get("API_JWT"))
                .header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(spec)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        committed = System.nanoTime();
        if (put.statusCode() != 201) {
            throw new AssertionError("PUT /api/tenants/" + id + ": " + put.statusCode() + " " + put.body());
        }
        List<String> ports = List.of(cluster.get("INSTANCE_TRANSACTION_PORTS").trim().split("\\s+"));
        List<Future<Long>> logins = new ArrayList<>();
        for (String port : ports) {
            Target instance = new Target("127.0.0.1", Integer.parseInt(port), cluster.get("UPSTREAM_DB"),
                    PROBE_ROLE + "." + id, PROBE_PASSWORD, Map.of("connectTimeout", "2", "socketTimeout", "5"));
            logins.add(threads.submit(() -> {
                AtomicInteger tries = new AtomicInteger();
                Wait.until("a login as " + instance.user() + " on 127.0.0.1:" + port, max, () -> {
                    tries.incrementAndGet();
                    try (Connection c = cluster.connect(instance); Statement st = c.createStatement()) {
                        return st.execute("SELECT 1");
                    }
                }, () -> tries.get() + " tries");
                return Math.max(0, (System.nanoTime() - committed) / 1_000_000);
            }));
        }
        long[] millis = new long[ports.size()];
        for (int i = 0; i < millis.length; i++) {
            try {
                millis[i] = logins.get(i).get(max.toSeconds() + 10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new AssertionError("tenant " + id + " on instance " + (i + 1) + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
        return millis;
    }

    private int sleepersRunning(Cluster cluster) throws SQLException {
        try (Connection direct = cluster.direct();
             PreparedStatement ps = direct.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ?"
                     + " AND state = 'active' AND query = 'SELECT pg_sleep(30)'")) {
            ps.setString(1, cluster.get("UPSTREAM_USER"));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private double cancelsForwarded(Cluster cluster) {
        return cluster.adminUrls().stream().mapToDouble(url -> metric(url, "pgmux_peer_cancels_forwarded_total")).sum();
    }

    /** One unlabelled sample of an instance's /metrics. */
    private double metric(String adminUrl, String name) {
        String body = get(adminUrl + "/metrics");
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException(adminUrl + "/metrics has no " + name);
        }
        return Double.parseDouble(m.group(1));
    }

    /** A server's status (UP, DOWN, ...) in HAProxy's statistics (CSV: pxname, svname, ..., status at column 18). */
    private String haproxyStatus(Cluster cluster, String backend, String server) {
        for (String line : get(cluster.get("HAPROXY_STATS_URL") + ";csv").split("\n")) {
            String[] f = line.split(",", -1);
            if (f.length > 17 && f[0].equals(backend) && f[1].equals(server)) {
                return f[17];
            }
        }
        throw new IllegalStateException("no server " + backend + "/" + server + " in HAProxy's statistics");
    }

    private String get(String url) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + url + " answered " + response.statusCode());
            }
            return response.body();
        } catch (IOException e) {
            throw new IllegalStateException("GET " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String loadErrors(List<IntervalSnapshot> intervals) {
        long errors = intervals.stream().mapToLong(s -> s.global().errors()).sum();
        return errors + " errors so far";
    }

    @FunctionalInterface
    private interface Part {
        void run() throws Exception;
    }

    /** Runs one part; a failure is recorded with the part's name and the test goes on with the next part. */
    private void part(String name, Part part) {
        long start = System.nanoTime();
        int before = failures.size();
        try {
            part.run();
        } catch (Exception | AssertionError e) {
            failures.add(name + ": " + e);
        }
        for (int i = before; i < failures.size(); i++) {
            if (!failures.get(i).startsWith(name)) {
                failures.set(i, name + ": " + failures.get(i));
            }
        }
        observed.put("part took (s): " + name, String.format("%.1f", (System.nanoTime() - start) / 1e9));
    }

    private void check(boolean condition, String failure) {
        if (!condition) {
            failures.add(failure);
        }
    }

    private String observedText() {
        StringBuilder out = new StringBuilder();
        observed.forEach((k, v) -> out.append("  ").append(k).append(": ").append(v).append('\n'));
        return out.toString();
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples/cluster/start.sh"))) {
                return p;
            }
        }
        throw new AssertionError("examples/cluster/start.sh not found above " + dir);
    }

    /** Counts the tenant's backends in pg_stat_activity every 100 ms, over a superuser connection of its own. */
    private static final class Sampler implements AutoCloseable {
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger samples = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final Map<Integer, Integer> histogram = new ConcurrentHashMap<>();
        private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        private final Connection connection;
        private final PreparedStatement count;

        Sampler(Cluster cluster) throws SQLException {
            connection = cluster.direct();
            count = connection.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND datname = ?");
            count.setString(1, cluster.get("UPSTREAM_USER"));
            count.setString(2, cluster.get("UPSTREAM_DB"));
            timer.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        }

        private void sample() {
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                int n = rs.getInt(1);
                samples.incrementAndGet();
                max.accumulateAndGet(n, Math::max);
                histogram.merge(n, 1, Integer::sum);
            } catch (SQLException e) {
                failed.incrementAndGet();
            }
        }

        long above(int limit) {
            return histogram.entrySet().stream().filter(e -> e.getKey() > limit).mapToLong(Map.Entry::getValue).sum();
        }

        void stop() throws InterruptedException {
            timer.shutdown();
            timer.awaitTermination(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            stop();
            connection.close();
        }
    }

    /** The cluster examples/cluster/start.sh started, with the values it exported. */
    private record Cluster(Path root, Path runDir, Path stateDir, Map<String, String> env) {
        private static final Pattern EXPORT = Pattern.compile("^export ([A-Z_]+)='([^']*)'$");

        static Cluster start(Path root, Path runDir) throws Exception {
            Path jar = Path.of(System.getProperty("pgmux.jar", root.resolve("proxy/target/pgmux.jar").toString()));
            if (!Files.isRegularFile(jar)) {
                throw new AssertionError("the pgmux jar " + jar + " is missing: package the proxy module first"
                        + " (the reactor does, before this module's tests)");
            }
            Path state = runDir.resolve("state");
            Path exports = runDir.resolve("exports.sh");
            Path log = runDir.resolve("start.log");
            ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("examples/cluster/start.sh").toString())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(exports.toFile()).redirectError(log.toFile());
            pb.environment().keySet().removeIf(name -> name.startsWith("PGMUX_CLUSTER_"));
            pb.environment().put("PGMUX_CLUSTER_DIR", state.toString());
            pb.environment().put("PGMUX_JAR", jar.toString());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().put("PGMUX_CLUSTER_START_TIMEOUT", "90");
            Process p = pb.start();
            Cluster cluster = new Cluster(root, runDir, state, Map.of());
            if (!p.waitFor(150, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                cluster.stop(true);
                throw new AssertionError("examples/cluster/start.sh did not finish within 150 s:\n" + read(log));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("examples/cluster/start.sh failed (exit status " + p.exitValue() + "):\n" + read(log));
            }
            Map<String, String> env = new LinkedHashMap<>();
            for (String line : Files.readAllLines(exports)) {
                Matcher m = EXPORT.matcher(line);
                if (m.matches()) {
                    env.put(m.group(1), m.group(2));
                }
            }
            return new Cluster(root, runDir, state, env);
        }

        String get(String name) {
            String value = env.get(name);
            if (value == null) {
                throw new AssertionError("examples/cluster/start.sh exported no " + name + " (exports: " + env.keySet() + ")");
            }
            return value;
        }

        Target target(String urlName) {
            return Target.parse(get(urlName), null, null);
        }

        List<String> adminUrls() {
            return List.of(get("ADMIN_URLS").trim().split("\\s+"));
        }

        Connection connect(Target target) throws SQLException {
            Properties props = target.connectionProperties(Map.of());
            props.putIfAbsent("connectTimeout", "5");
            props.putIfAbsent("socketTimeout", "30");
            props.setProperty("ApplicationName", "cluster-example-test");
            Connection c = new org.postgresql.Driver().connect(target.jdbcUrl(), props);
            if (c == null) {
                throw new SQLException("pgjdbc refused " + target.jdbcUrl());
            }
            return c;
        }

        /** A superuser connection straight to the upstream Postgres. */
        Connection direct() throws SQLException {
            return connect(target("DIRECT_URL"));
        }

        /** examples/cluster/postgres.sh NAME ACTION (metadata|upstream, start|stop). */
        void postgres(String name, String action) throws IOException, InterruptedException {
            Path log = runDir.resolve("postgres-" + name + "-" + action + ".log");
            ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("examples/cluster/postgres.sh").toString(), name, action)
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("PGMUX_CLUSTER_DIR", stateDir.toString());
            Process p = pb.start();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("postgres.sh " + name + " " + action + " did not finish within 90 s:\n" + read(log));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("postgres.sh " + name + " " + action + " failed:\n" + read(log));
            }
        }

        /** examples/cluster/stop.sh, keeping the state directory when asked. */
        void stop(boolean keep) throws IOException, InterruptedException {
            Path log = runDir.resolve("stop.log");
            List<String> command = new ArrayList<>(List.of("bash", root.resolve("examples/cluster/stop.sh").toString()));
            if (keep) {
                command.add("--keep");
            }
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("PGMUX_CLUSTER_DIR", stateDir.toString());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("examples/cluster/stop.sh failed or hung:\n" + read(log));
            }
        }

        /** The last lines of every log of the cluster, for a failure message. */
        String logTails() {
            StringBuilder out = new StringBuilder();
            List<Path> logs = new ArrayList<>(List.of(stateDir.resolve("haproxy.log"),
                    stateDir.resolve("metadata-postgres/postgres.log"), stateDir.resolve("upstream-postgres/postgres.log")));
            for (int i = 1; i <= 3; i++) {
                logs.add(stateDir.resolve("pgmux-" + i + "/pgmux.log"));
            }
            for (Path log : logs) {
                List<String> lines = readLines(log);
                out.append("---- last lines of ").append(runDir.relativize(log)).append(" ----\n");
                lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> out.append(l).append('\n'));
            }
            return out.toString();
        }

        private static List<String> readLines(Path file) {
            try {
                return Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return List.of("(" + e + ")");
            }
        }

        private static String read(Path file) {
            return String.join("\n", readLines(file));
        }
    }
}
