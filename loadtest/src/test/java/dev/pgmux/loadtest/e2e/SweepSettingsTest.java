package dev.pgmux.loadtest.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.config.TenantConfig;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.pgmux.loadtest.e2e.Fixture.cli;
import static dev.pgmux.loadtest.e2e.Fixture.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * pgmux targets with tenant settings of their own ({@code NAME=pgmux-transaction:KEY=VALUE;...}): each is served by
 * a pgmux started with those settings, a setting pgmux refuses stops the sweep before anything is measured, and the
 * reports name every target.
 */
class SweepSettingsTest {

    /** What a probe found while its point ran: the pgmux processes alive and the configuration of the one running. */
    record Seen(String point, Set<Long> pids, PreparedStatementMode mode, int maxPreparedStatements, int poolSize) {
    }

    @AfterEach
    void everyPgmuxStopped() {
        assertThat(pgmuxProcesses()).as("pgmux processes left running").isEmpty();
    }

    @Test
    void eachTargetsSettingsAreInTheConfigurationItsPgmuxRuns() throws Exception {
        List<Seen> seen = new CopyOnWriteArrayList<>();
        Target upstream = Target.parse(Fixture.upstream(), null, null);
        List<SweepTarget> targets = SweepTarget.parseList(
                "pgmux-transaction,strip=pgmux-transaction:prepared_statements=strip;max_prepared_statements=100");
        PgmuxLauncher launcher = new PgmuxLauncher(Fixture.pgmuxJar(), List.of("-Xmx256m"), Map.of("max_clients", "300"));
        Path out = Fixture.outDir("sweep-settings");
        Sweep.Plan plan = new Sweep.Plan(upstream, targets, List.of(2, 3), 10, out, List.of(), PgmuxPoints.RELOAD);
        SweepResult result = new Sweep(plan, launcher, (target, name, dir, extra) -> {
            List<ProcessHandle> running = pgmuxProcesses();
            assertThat(running).as("one pgmux at a time").hasSize(1);
            String command = running.get(0).info().commandLine().orElseThrow();
            Path config = Path.of(command.substring(command.indexOf("--config ") + "--config ".length()).strip());
            TenantConfig tenant = ConfigLoader.load(config).tenants().get(0);
            assertThat(tenant.maxClients()).as("--pgmux-set applies to every target").isEqualTo(300);
            try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.connectionProperties(Map.of()));
                 ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            seen.add(new Seen(name, Set.of(running.get(0).pid()), tenant.preparedStatements().mode(),
                    tenant.preparedStatements().maxPerServer(), tenant.poolSize()));
            return result(name);
        }, System.out).run("settings", "probe", Map.of(), List.of());

        assertThat(seen).extracting(Seen::point).containsExactly("pgmux-transaction pool 2", "pgmux-transaction pool 3",
                "strip pool 2", "strip pool 3");
        assertThat(seen.get(0).mode()).isEqualTo(PreparedStatementMode.REWRITE);
        assertThat(seen.get(0).maxPreparedStatements()).isEqualTo(500);
        assertThat(seen.get(2).mode()).isEqualTo(PreparedStatementMode.STRIP);
        assertThat(seen.get(2).maxPreparedStatements()).isEqualTo(100);
        assertThat(seen.get(3).mode()).isEqualTo(PreparedStatementMode.STRIP);
        assertThat(seen).extracting(Seen::poolSize).containsExactly(2, 3, 2, 3);
        // a process per settings, each reloaded between its pool sizes
        assertThat(seen.get(0).pids()).isEqualTo(seen.get(1).pids());
        assertThat(seen.get(2).pids()).isEqualTo(seen.get(3).pids());
        assertThat(seen.get(0).pids()).isNotEqualTo(seen.get(2).pids());
        assertThat(result.points()).extracting(SweepPoint::name).containsExactly("pgmux-transaction pool 2",
                "pgmux-transaction pool 3", "strip pool 2", "strip pool 3");
        assertThat(result.points().get(3).pgmux().poolSizeSetBy()).isEqualTo("reload: tenants[loadtest].pool_size: 2 -> 3");
        assertThat(result.recommendations()).extracting(r -> r.target()).containsExactly("pgmux-transaction", "strip");
        assertThat(result.configuration()).containsEntry("pgmux processes", "a pgmux process for each set of tenant settings"
                + " (2 processes), each reloaded to each pool size by POST /reload");
        assertThat(result.configuration()).containsEntry("target strip",
                "pgmux-transaction with prepared_statements=strip; max_prepared_statements=100");
        assertThat(out.resolve("pgmux.log")).isRegularFile();
        assertThat(out.resolve("pgmux-strip.log")).isRegularFile();
    }

    @Test
    void aSettingPgmuxRefusesStopsTheSweepBeforeAnythingIsMeasured() throws Exception {
        Path out = Fixture.outDir("sweep-unknown-key");
        Fixture.Cli r = cli("sweep", "--upstream", Fixture.upstream(),
                "--targets", "direct,pgmux-transaction,bad=pgmux-transaction:no_such_setting=1;max_clients=many",
                "--pool-sizes", "2", "--scenario", "serverless", "--rate", "5", "--duration", "1s",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m", "--out", out.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("pgmux-loadtest: --targets bad (no_such_setting=1; max_clients=many): pgmux refuses the tenant settings:",
                "invalid configuration in the pgmux configuration for bad (2 problems)",
                "tenants[0].no_such_setting: unknown key (known keys: id, upstream, pool_size",
                "tenants[0].max_clients: must be an integer, got \"many\"");
        assertThat(r.err()).doesNotContain("pgmux-loadtest-", ".yaml", dev.pgmux.proxy.testing.TestPostgres.SCRAM.password());
        assertThat(r.out()).doesNotContain("== direct");
        assertThat(out.resolve("sweep.json")).doesNotExist();
    }

    @Test
    void anOrmSweepComparesTwoConfigurationsSideBySide() throws Exception {
        Path out = Fixture.outDir("sweep-orm");
        Fixture.Cli r = cli("sweep", "--upstream", Fixture.upstream(),
                "--targets", "direct,pgmux-transaction,strip=pgmux-transaction:prepared_statements=strip",
                "--pool-sizes", "2", "--scenario", "orm", "--users", "2", "--duration", "2s", "--assert", "p99<5s",
                "--pgmux-jar", Fixture.pgmuxJar().toString(), "--pgmux-java-opts", "-Xmx256m", "--quiet", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("targets direct, pgmux-transaction, strip;", "tenant settings prepared_statements=strip",
                "pgmux-transaction: recommended pool_size 2", "strip: recommended pool_size 2", "2 processes served the 2 pgmux points",
                "pgmux points: a pgmux process for each set of tenant settings (2 processes), each reloaded");
        JsonNode sweep = json(out.resolve("sweep.json"));
        assertThat(sweep.get("targets").toString()).contains("\"direct\"", "\"pgmux-transaction\"", "\"strip\"");
        Set<String> names = new HashSet<>();
        Set<Long> pids = new HashSet<>();
        for (JsonNode p : sweep.get("points")) {
            names.add(p.get("name").asText());
            assertThat(p.get("errors").asLong()).as(p.get("name").asText()).isZero();
            assertThat(p.get("count").asLong()).as(p.get("name").asText()).isPositive();
            if (!p.get("pgmux").isNull()) {
                pids.add(p.at("/pgmux/pid").asLong());
            }
        }
        assertThat(names).containsExactlyInAnyOrder("direct", "pgmux-transaction pool 2", "strip pool 2");
        assertThat(pids).hasSize(2);
        assertThat(sweep.get("recommendations").findValuesAsText("target")).containsExactly("pgmux-transaction", "strip");
        assertThat(json(out.resolve("points/strip-pool-2/report.json")).get("configuration").toString())
                .contains("strip: prepared_statements=strip");
        String html = Files.readString(out.resolve("sweep.html"));
        assertThat(html).contains("strip: recommended pool_size 2", "points/strip-pool-2/report.html",
                "<dt>target strip</dt><dd>pgmux-transaction with prepared_statements=strip</dd>");
        assertThat(out.resolve("pgmux-strip.log")).isRegularFile();
    }

    private static List<ProcessHandle> pgmuxProcesses() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains("pgmux.jar")).toList();
    }

    /** A run result for a probe: one successful request. */
    private static RunResult result(String name) {
        LatencyStats g = new LatencyStats(1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0);
        RunStats stats = new RunStats(g, 1.0, 1, List.of(), List.of(), List.of(), List.of(), List.of());
        RunInfo info = new RunInfo(name, "probe", "t", Instant.now(), 1, 0, List.of(), Map.of());
        return new RunResult(info, stats, AssertionChecker.check(List.of(), stats), new GeneratorStats(1, 1, 0, 0, false, 0, 0), 1);
    }
}
