package dev.pgmux.proxy.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.List;

/** Tenants updated in place by a reload: who keeps what, and what a login finds afterwards. */
class TenantRegistryTest {
    private static final TenantConfig ACME = TenantConfig.of("acme", UpstreamConfig.of("db", 5432),
            new UserConfig("app", "one"), new UserConfig("ops", "two"));
    private static final TenantConfig SHOP = TenantConfig.of("shop", UpstreamConfig.of("db", 5432), new UserConfig("app", "x"));

    private static Tenant found(TenantRegistry registry, String startupUser) {
        assertThat(registry.resolve(startupUser)).isInstanceOf(TenantRegistry.Resolution.Found.class);
        return ((TenantRegistry.Resolution.Found) registry.resolve(startupUser)).tenant();
    }

    @Test
    void aTenantStillConfiguredKeepsItsObjectItsClientsAndItsUnchangedUsers() {
        TenantRegistry registry = new TenantRegistry(PgmuxConfig.of(ACME, SHOP), new SecureRandom());
        Tenant acme = found(registry, "app.acme");
        Tenant.User app = acme.user("app");
        Tenant.User ops = acme.user("ops");
        assertThat(acme.tryAddClient()).isTrue();

        registry.update(PgmuxConfig.of(ACME.withMaxClients(1)
                .withUsers(List.of(new UserConfig("app", "one"), new UserConfig("ops", "changed"))), SHOP));

        assertThat(found(registry, "app.acme")).isSameAs(acme);
        assertThat(acme.clients()).isEqualTo(1);
        assertThat(acme.config().maxClients()).isEqualTo(1);
        assertThat(acme.tryAddClient()).as("a second client over the new max_clients of 1").isFalse();
        assertThat(acme.user("app")).as("a user whose password is unchanged").isSameAs(app);
        assertThat(acme.user("app").secret()).isSameAs(app.secret());
        assertThat(acme.user("ops")).isNotSameAs(ops);
        assertThat(acme.user("ops").password()).isEqualTo("changed");
        assertThat(acme.user("ops").secret()).isNotEqualTo(ops.secret());
    }

    @Test
    void aRemovedTenantIsNotFoundWhileItsObjectServesItsClients() {
        TenantRegistry registry = new TenantRegistry(PgmuxConfig.of(ACME, SHOP).withDefaultTenant("shop"), new SecureRandom());
        Tenant shop = found(registry, "app.shop");
        assertThat(shop.tryAddClient()).isTrue();
        TenantConfig blog = TenantConfig.of("blog", UpstreamConfig.of("db", 5432), new UserConfig("app", "y"));

        registry.update(PgmuxConfig.of(ACME, blog).withDefaultTenant("blog"));

        assertThat(registry.resolve("app.shop")).isEqualTo(new TenantRegistry.Resolution.NotFound("shop"));
        assertThat(registry.find("shop")).isNull();
        assertThat(shop.user("app")).as("the removed tenant's object, held by its clients").isNotNull();
        shop.removeClient();
        assertThat(shop.clients()).isZero();
        assertThat(found(registry, "app.blog").id()).isEqualTo("blog");
        assertThat(found(registry, "app").id()).as("the new default tenant").isEqualTo("blog");
        assertThat(registry.all()).extracting(Tenant::id).containsExactly("acme", "blog");
    }
}
