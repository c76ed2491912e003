package dev.pgmux.loadtest.sweep;

import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
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
    void theJarIsFoundWhereTheBuildPutsIt(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("pgmux.jar");
        Files.writeString(jar, "not really a jar");
        assertThat(PgmuxLauncher.findJar(jar.toString())).isEqualTo(jar);
        assertThatThrownBy(() -> new PgmuxLauncher(dir.resolve("missing.jar"), List.of(), Map.of()))
                .hasMessageContaining("pgmux jar not found");
    }
}
