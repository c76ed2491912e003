package dev.pgmux.loadtest.sweep;

import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.loadtest.engine.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sweep's targets, and the pgmux configuration it writes, read back by pgmux's own loader. */
class SweepSetupTest {

    @Test
    void theGeneratedConfigurationIsWhatPgmuxReads(@TempDir Path dir) throws Exception {
        Target upstream = Target.parse("postgresql://app:p%22w%24%7Bx%7D%5C%3A@db.internal:5433/shop", null, null);
        assertThat(upstream.password()).isEqualTo("p\"w${x}\\:");
        String yaml = PgmuxConfigYaml.render(upstream, 8, new PgmuxConfigYaml.Ports(16001, 16002, 16003),
                Map.of("max_clients", "5000", "checkout_timeout", "30s"));
        Path file = dir.resolve("pgmux.yaml");
        Files.writeString(file, yaml);
        PgmuxConfig config = ConfigLoader.load(file);
        assertThat(config.listen().sessionPort()).isEqualTo(16001);
        assertThat(config.listen().transactionPort()).isEqualTo(16002);
        assertThat(config.listen().adminPort()).isEqualTo(16003);
        TenantConfig tenant = config.tenants().get(0);
        assertThat(tenant.id()).isEqualTo(PgmuxConfigYaml.TENANT);
        assertThat(tenant.poolSize()).isEqualTo(8);
        assertThat(tenant.maxClients()).isEqualTo(5000);
        assertThat(tenant.upstream().host()).isEqualTo("db.internal");
        assertThat(tenant.upstream().port()).isEqualTo(5433);
        assertThat(tenant.upstream().database()).isEqualTo("shop");
        assertThat(tenant.users().get(0).name()).isEqualTo("app");
        assertThat(tenant.users().get(0).password()).isEqualTo("p\"w${x}\\:");
        assertThat(tenant.checkoutTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(config.defaultTenant()).contains(PgmuxConfigYaml.TENANT);
        assertThat(config.listen().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void settingsTheSweepOwnsCannotBeOverridden() {
        Target upstream = Target.parse("postgresql://app:pw@h/db", null, null);
        assertThatThrownBy(() -> PgmuxConfigYaml.render(upstream, 4, new PgmuxConfigYaml.Ports(1, 2, 3), Map.of("pool_size", "9")))
                .hasMessageContaining("pool_size are set by the sweep");
        assertThatThrownBy(() -> PgmuxConfigYaml.render(Target.parse("postgresql://app@h/db", null, null), 4,
                new PgmuxConfigYaml.Ports(1, 2, 3), Map.of())).hasMessageContaining("password");
        assertThat(PgmuxConfigYaml.clientUser("app")).isEqualTo("app");
        assertThat(PgmuxConfigYaml.clientUser("first.last")).isEqualTo("first.last.loadtest");
    }

    @Test
    void targetLists() {
        List<SweepTarget> t = SweepTarget.parseList("direct,pgmux-session,pgmux-transaction,"
                + "pgbouncer=url:postgresql://u:p@127.0.0.1:6432/db?options=a,b,url:jdbc:postgresql://10.0.0.1:5432/x?user=u");
        assertThat(t).hasSize(5);
        assertThat(t.get(0)).isEqualTo(new SweepTarget.Direct());
        assertThat(t.get(1)).isEqualTo(new SweepTarget.Pgmux(false));
        assertThat(t.get(2)).isEqualTo(new SweepTarget.Pgmux(true));
        assertThat(t.get(3)).isEqualTo(new SweepTarget.Url("pgbouncer", "postgresql://u:p@127.0.0.1:6432/db?options=a,b"));
        assertThat(t.get(4).label()).isEqualTo("10.0.0.1:5432");
        assertThat(t.get(3).toString()).doesNotContain(":p@");
        assertThatThrownBy(() -> SweepTarget.parseList("direct,direct")).hasMessageContaining("different names");
        assertThatThrownBy(() -> SweepTarget.parseList("pgcat")).hasMessageContaining("unknown target");
    }

    @Test
    void pgmuxTargetsWithSettingsOfTheirOwn() {
        List<SweepTarget> t = SweepTarget.parseList("direct,pgmux-transaction,"
                + "nocache=pgmux-transaction:cache_unnamed_statements=false,"
                + "strip=transaction: prepared_statements = strip ; max_prepared_statements=100,"
                + "plain=pgmux-session,"
                + "app=pgmux-session:server_reset_query=SELECT 1, 2");
        assertThat(t).hasSize(6);
        assertThat(t.get(1)).isEqualTo(new SweepTarget.Pgmux(true));
        assertThat(t.get(2)).isEqualTo(new SweepTarget.Pgmux("nocache", true, Map.of("cache_unnamed_statements", "false")));
        SweepTarget.Pgmux strip = (SweepTarget.Pgmux) t.get(3);
        assertThat(strip.label()).isEqualTo("strip");
        assertThat(strip.transactionMode()).isTrue();
        assertThat(strip.settings()).containsExactly(Map.entry("prepared_statements", "strip"),
                Map.entry("max_prepared_statements", "100"));
        assertThat(strip.describe()).isEqualTo("pgmux-transaction with prepared_statements=strip; max_prepared_statements=100");
        assertThat(t.get(4)).isEqualTo(new SweepTarget.Pgmux("plain", false, Map.of()));
        // a comma in a value stays with it, as in a URL
        assertThat(((SweepTarget.Pgmux) t.get(5)).settings()).containsExactly(Map.entry("server_reset_query", "SELECT 1, 2"));
        assertThat(Sweep.logName(strip)).isEqualTo("pgmux-strip.log");
        assertThat(Sweep.logName(new SweepTarget.Pgmux(true))).isEqualTo("pgmux.log");

        assertThatThrownBy(() -> SweepTarget.parseList("pgmux-transaction:prepared_statements=strip"))
                .hasMessageContaining("give it a name for the reports, as NAME=pgmux-transaction:prepared_statements=strip");
        assertThatThrownBy(() -> SweepTarget.parseList("big=pgmux-transaction:pool_size=50"))
                .hasMessageContaining("target big: pool_size is set by the sweep");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgmux-session:max_clients"))
                .hasMessageContaining("target x: \"max_clients\" is not KEY=VALUE");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgmux-session:Max-Clients=3"))
                .hasMessageContaining("is not KEY=VALUE");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgmux-session:max_clients=3;max_clients=4"))
                .hasMessageContaining("target x: max_clients is given twice");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgmux-session:"))
                .hasMessageContaining("target x: no KEY=VALUE after the colon");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgmux-session:a=1,x=pgmux-transaction:a=2"))
                .hasMessageContaining("different names");
        assertThatThrownBy(() -> SweepTarget.parseList("x=pgcat:a=1")).hasMessageContaining("unknown target");
    }

    @Test
    void aTargetsSettingsAreWrittenIntoTheTenantOverTheGlobalOnes(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("pgmux.jar");
        Files.writeString(jar, "not really a jar");
        PgmuxLauncher global = new PgmuxLauncher(jar, List.of(), Map.of("max_clients", "5000", "prepared_statements", "rewrite"));
        SweepTarget.Pgmux strip = (SweepTarget.Pgmux) SweepTarget.parse(
                "strip=pgmux-transaction:prepared_statements=strip;max_prepared_statements=100");
        PgmuxLauncher launcher = global.withTenantSettings(strip.settings());
        assertThat(launcher.tenantSettings()).containsEntry("max_clients", "5000").containsEntry("prepared_statements", "strip")
                .containsEntry("max_prepared_statements", "100");
        assertThat(global.tenantSettings()).containsEntry("prepared_statements", "rewrite");

        Target upstream = Target.parse("postgresql://app:pw@db.internal:5433/shop", null, null);
        Path file = dir.resolve("pgmux.yaml");
        Files.writeString(file, PgmuxConfigYaml.render(upstream, 4, new PgmuxConfigYaml.Ports(16001, 16002, 16003),
                launcher.tenantSettings()));
        TenantConfig tenant = ConfigLoader.load(file).tenants().get(0);
        assertThat(tenant.preparedStatements().mode()).isEqualTo(PreparedStatementMode.STRIP);
        assertThat(tenant.preparedStatements().maxPerServer()).isEqualTo(100);
        assertThat(tenant.maxClients()).isEqualTo(5000);
        assertThat(tenant.poolSize()).isEqualTo(4);

        // a boolean, as cache_unnamed_statements=false will be
        SweepTarget.Pgmux plain = (SweepTarget.Pgmux) SweepTarget.parse("plain=pgmux-session:require_tls=false");
        Files.writeString(file, PgmuxConfigYaml.render(upstream, 4, new PgmuxConfigYaml.Ports(16001, 16002, 16003),
                global.withTenantSettings(plain.settings()).tenantSettings()));
        assertThat(ConfigLoader.load(file).tenants().get(0).access().requireTls()).contains(false);
    }

    @Test
    void theJarIsFoundWhereTheBuildPutsIt(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("pgmux.jar");
        Files.writeString(jar, "not really a jar");
        assertThat(PgmuxLauncher.findJar(jar.toString())).isEqualTo(jar);
        assertThatThrownBy(() -> new PgmuxLauncher(dir.resolve("missing.jar"), List.of(), Map.of()))
                .hasMessageContaining("pgmux jar not found");
    }
}
