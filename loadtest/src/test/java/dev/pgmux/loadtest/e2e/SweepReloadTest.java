package dev.pgmux.loadtest.e2e;

import dev.pgmux.loadtest.engine.AssertionChecker;
import dev.pgmux.loadtest.engine.GeneratorStats;
import dev.pgmux.loadtest.engine.RunInfo;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.stats.LatencyStats;
import dev.pgmux.loadtest.stats.RunStats;
import dev.pgmux.loadtest.sweep.PgmuxLauncher;
import dev.pgmux.loadtest.sweep.PgmuxPoints;
import dev.pgmux.loadtest.sweep.Sweep;
import dev.pgmux.loadtest.sweep.SweepPoint;
import dev.pgmux.loadtest.sweep.SweepResult;
import dev.pgmux.loadtest.sweep.SweepTarget;
import dev.pgmux.proxy.testing.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sweep's pgmux points served by one pgmux process, reloaded to each pool size. The points here are probes, not
 * simulations: while each runs, the test looks at the operating system's processes, at Postgres' pg_stat_activity
 * and at pgmux's /pools for itself.
 */
class SweepReloadTest {
    private static final String MARKER = "sweep-reload-probe";
    private static final Pattern POOL = Pattern.compile("size=(\\d+) open=(\\d+)");

    /** What one probe saw while its point ran. */
    record Observed(String point, int poolSize, Set<Long> pgmuxPids, int maxConcurrentQueries, int maxOpen,
                    Set<Integer> sizesShown) {
    }

    @AfterEach
    void everyPgmuxStopped() {
        assertThat(pgmuxProcesses()).as("pgmux processes left running").isEmpty();
    }

    @Test
    void onePgmuxProcessServesEveryPointEachAtItsPoolSize() throws Exception {
        List<Observed> seen = new CopyOnWriteArrayList<>();
        SweepResult result = sweep(List.of(new SweepTarget.Pgmux(false), new SweepTarget.Pgmux(true)), List.of(2, 4),
                (target, name, dir, extra) -> probe(target, name, extra, seen));

        assertThat(result.pgmuxPoints()).isEqualTo(PgmuxPoints.RELOAD);
        assertThat(result.points()).extracting(SweepPoint::name).containsExactly("pgmux-session pool 2",
                "pgmux-session pool 4", "pgmux-transaction pool 2", "pgmux-transaction pool 4");
        assertThat(result.points()).allSatisfy(p -> assertThat(p.failure()).as(p.name()).isNull());
        // the report: one pid and one start time for every point, and how each got its pool size
        SweepPoint.PgmuxProcess first = result.points().get(0).pgmux();
        assertThat(result.points()).extracting(p -> p.pgmux().pid()).containsOnly(first.pid());
        assertThat(result.points()).extracting(p -> p.pgmux().startedAt()).containsOnly(first.startedAt());
        assertThat(result.points()).extracting(p -> p.pgmux().poolSizeSetBy()).containsExactly(
                "started with pool_size 2",
                "reload: tenants[loadtest].pool_size: 2 -> 4",
                "reload: tenants[loadtest].pool_size: 4 -> 2",
                "reload: tenants[loadtest].pool_size: 2 -> 4");
        assertThat(result.pgmuxPids()).containsExactly(first.pid());

        assertThat(seen).hasSize(4);
        for (Observed o : seen) {
            // the operating system: this JVM had exactly one pgmux child during every point, the reported one
            assertThat(o.pgmuxPids()).as(o.point()).containsExactly(first.pid());
            // Postgres: poolSize + 2 clients each sleeping in a query, of which exactly poolSize ran at once
            assertThat(o.maxConcurrentQueries()).as(o.point() + ": queries running at once").isEqualTo(o.poolSize());
            // pgmux: the point's size in every sample, never more servers open (after the shrink 4 -> 2 too)
            assertThat(o.sizesShown()).as(o.point()).containsExactly(o.poolSize());
            assertThat(o.maxOpen()).as(o.point() + ": servers open").isBetween(1, o.poolSize());
        }
    }

    @Test
    void theNextPointStartsOnlyWhenTheLastPointsClientsHaveLeft() throws Exception {
        List<Instant> lingeringClosed = new CopyOnWriteArrayList<>();
        List<Instant> pointStarts = new CopyOnWriteArrayList<>();
        SweepResult result = sweep(List.of(new SweepTarget.Pgmux(true)), List.of(1, 2), (target, name, dir, extra) -> {
            pointStarts.add(Instant.now());
            if (pointStarts.size() == 1) {
                // a client of this point that stays connected for a while after the point has returned
                Connection lingering = DriverManager.getConnection(target.jdbcUrl(), target.connectionProperties(Map.of()));
                Thread.ofVirtual().start(() -> {
                    try (lingering) {
                        Thread.sleep(1500); // how long it lingers: the next point must wait for it
                        lingeringClosed.add(Instant.now());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            return result(name);
        });
        assertThat(result.points()).allSatisfy(p -> assertThat(p.failure()).as(p.name()).isNull());
        assertThat(lingeringClosed).hasSize(1);
        assertThat(pointStarts.get(1)).as("the second point started after the first point's last client left")
                .isAfter(lingeringClosed.get(0));
        assertThat(result.points().get(1).pgmux().poolSizeSetBy()).isEqualTo("reload: tenants[loadtest].pool_size: 1 -> 2");
    }

    @Test
    void aPgmuxThatExitedIsReplacedForTheNextPoint() throws Exception {
        SweepResult result = sweep(List.of(new SweepTarget.Pgmux(true)), List.of(1, 2, 3), (target, name, dir, extra) -> {
            if (name.endsWith("pool 2")) {
                for (long pid : pgmuxProcesses()) {
                    ProcessHandle.of(pid).ifPresent(p -> {
                        p.destroyForcibly();
                        p.onExit().join();
                    });
                }
            }
            return result(name);
        });
        assertThat(result.points()).allSatisfy(p -> assertThat(p.failure()).as(p.name()).isNull());
        List<SweepPoint.PgmuxProcess> served = result.points().stream().map(SweepPoint::pgmux).toList();
        assertThat(served.get(1).pid()).isEqualTo(served.get(0).pid());
        assertThat(served.get(2).pid()).as("a new process after the first exited").isNotEqualTo(served.get(1).pid());
        assertThat(served.get(2).poolSizeSetBy()).isEqualTo("started with pool_size 3");
        assertThat(result.pgmuxPids()).hasSize(2);
    }

    private static SweepResult sweep(List<SweepTarget> targets, List<Integer> sizes, Sweep.PointRunner runner) throws Exception {
        Target upstream = Target.parse(Fixture.upstream(), null, null);
        PgmuxLauncher launcher = new PgmuxLauncher(Fixture.pgmuxJar(), List.of("-Xmx256m"), Map.of());
        Sweep.Plan plan = new Sweep.Plan(upstream, targets, sizes, 10, Fixture.outDir("sweep-reload"), List.of(),
                PgmuxPoints.RELOAD);
        return new Sweep(plan, launcher, runner, System.out).run("reload", "probe", Map.of(), List.of());
    }

    /**
     * poolSize + 2 clients through the point's port, each running one query that sleeps half a second, while this
     * thread samples pg_stat_activity (those queries running at once) and pgmux's /pools.
     */
    private static RunResult probe(Target target, String name, Map<String, String> extra, List<Observed> seen) throws Exception {
        int size = Integer.parseInt(extra.get("pgmux pool_size"));
        URI pools = URI.create("http://127.0.0.1:" + extra.get("pgmux admin port") + "/pools");
        Set<Long> pids = new HashSet<>(pgmuxProcesses());
        int maxConcurrent = 0;
        int maxOpen = 0;
        Set<Integer> sizes = new HashSet<>();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
             Connection pg = TestPostgres.get().superuser();
             PreparedStatement running = pg.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                     + " WHERE state = 'active' AND query LIKE '%' || ? || '%' AND pid <> pg_backend_pid()")) {
            running.setString(1, MARKER);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < size + 2; i++) {
                done.add(clients.submit(() -> {
                    try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.connectionProperties(Map.of()))) {
                        c.createStatement().execute("SELECT pg_sleep(0.5) /* " + MARKER + " */");
                    }
                    return null;
                }));
            }
            while (done.stream().anyMatch(f -> !f.isDone())) {
                try (ResultSet rs = running.executeQuery()) {
                    rs.next();
                    maxConcurrent = Math.max(maxConcurrent, rs.getInt(1));
                }
                String text = http.send(HttpRequest.newBuilder(pools).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = POOL.matcher(text);
                while (m.find()) {
                    sizes.add(Integer.parseInt(m.group(1)));
                    maxOpen = Math.max(maxOpen, Integer.parseInt(m.group(2)));
                }
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        pids.addAll(pgmuxProcesses());
        seen.add(new Observed(name, size, pids, maxConcurrent, maxOpen, sizes));
        return result(name);
    }

    /** The pgmux processes this JVM started that are still running. */
    private static List<Long> pgmuxProcesses() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains("pgmux.jar")).map(ProcessHandle::pid).toList();
    }

    /** A run result for a probe: one successful request. */
    private static RunResult result(String name) {
        LatencyStats g = new LatencyStats(1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0);
        RunStats stats = new RunStats(g, 1.0, 1, List.of(), List.of(), List.of(), List.of(), List.of());
        RunInfo info = new RunInfo(name, "probe", "t", Instant.now(), 1, 0, List.of(), Map.of());
        return new RunResult(info, stats, AssertionChecker.check(List.of(), stats), new GeneratorStats(1, 1, 0, 0, false, 0, 0), 1);
    }
}
