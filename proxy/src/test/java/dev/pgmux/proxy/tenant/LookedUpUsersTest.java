package dev.pgmux.proxy.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.UpstreamConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.auth.AuthQuery;
import dev.pgmux.proxy.server.Credentials;
import dev.pgmux.proxy.testing.Wait;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/** The cache of auth_query answers of a tenant: shared lookups, TTLs, failures not remembered, reloads. */
class LookedUpUsersTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String VERIFIER = ScramSecret.generate("pw", RANDOM).toVerifier();
    private static final String OTHER_VERIFIER = ScramSecret.generate("pw2", RANDOM).toVerifier();
    private static final AuthQueryConfig LONG = new AuthQueryConfig(new UserConfig("pgbouncer", "x"),
            AuthQueryConfig.DEFAULT_QUERY, Duration.ofMinutes(5), Duration.ofMinutes(5));

    /** A lookup the test answers by hand, counting its runs. */
    private static final class Upstream {
        final AtomicInteger runs = new AtomicInteger();
        volatile CompletableFuture<Optional<String>> pending;

        CompletableFuture<Optional<String>> run(String name) {
            runs.incrementAndGet();
            pending = new CompletableFuture<>();
            return pending;
        }
    }

    @Test
    void concurrentLoginsOfOneUserShareOneLookup() {
        LookedUpUsers users = new LookedUpUsers();
        Upstream upstream = new Upstream();

        CompletableFuture<Tenant.User> first = users.lookUp("app", LONG, upstream::run);
        CompletableFuture<Tenant.User> second = users.lookUp("app", LONG, upstream::run);
        assertThat(first).isNotDone();
        upstream.pending.complete(Optional.of(VERIFIER));

        assertThat(upstream.runs).hasValue(1);
        assertThat(first.join()).isSameAs(second.join());
        assertThat(first.join().credentials()).isInstanceOf(Credentials.ScramVerifier.class);
        assertThat(users.lookUp("app", LONG, upstream::run).join()).as("from the cache").isSameAs(first.join());
        assertThat(upstream.runs).hasValue(1);
    }

    @Test
    void aFoundUserIsLookedUpAgainAfterTheCacheTtlAndKeepsItsObjectWhenUnchanged() {
        AuthQueryConfig shortTtl = new AuthQueryConfig(LONG.user(), LONG.query(), Duration.ofMillis(50), Duration.ofMinutes(5));
        LookedUpUsers users = new LookedUpUsers();
        Upstream upstream = new Upstream();
        CompletableFuture<Tenant.User> first = users.lookUp("app", shortTtl, upstream::run);
        upstream.pending.complete(Optional.of(VERIFIER));
        Tenant.User found = first.join();

        Wait.until("the answer expired and looked up again", () -> {
            users.lookUp("app", shortTtl, upstream::run);
            return upstream.runs.get() == 2;
        });
        upstream.pending.complete(Optional.of(VERIFIER));
        assertThat(users.known("app")).as("same password: same user, same ClientKey").isSameAs(found);

        Wait.until("looked up a third time", () -> {
            users.lookUp("app", shortTtl, upstream::run);
            return upstream.runs.get() == 3;
        });
        upstream.pending.complete(Optional.of(OTHER_VERIFIER));
        assertThat(users.known("app")).as("a new password: a new user").isNotSameAs(found);
        assertThat(users.known("app").password()).isEqualTo(OTHER_VERIFIER);
    }

    @Test
    void notFoundIsRememberedForTheFailureTtlAndAFailureNotAtAll() {
        LookedUpUsers users = new LookedUpUsers();
        Upstream upstream = new Upstream();

        CompletableFuture<Tenant.User> failed = users.lookUp("app", LONG, upstream::run);
        upstream.pending.completeExceptionally(new AuthQuery.Failed("upstream down"));
        assertThat(failed).isCompletedExceptionally();

        CompletableFuture<Tenant.User> again = users.lookUp("app", LONG, upstream::run);
        assertThat(upstream.runs).as("a failure is not cached").hasValue(2);
        upstream.pending.complete(Optional.empty());
        assertThat(again.join()).isNull();

        assertThat(users.lookUp("app", LONG, upstream::run).join()).isNull();
        assertThat(upstream.runs).as("not found is cached").hasValue(2);
        assertThat(users.known("app")).isNull();
    }

    @Test
    void aPasswordInNeitherStoredFormIsAFailure() {
        LookedUpUsers users = new LookedUpUsers();
        Upstream upstream = new Upstream();
        CompletableFuture<Tenant.User> lookup = users.lookUp("app", LONG, upstream::run);
        upstream.pending.complete(Optional.of("plain-secret"));

        assertThat(lookup).isCompletedExceptionally();
        assertThat(lookup.handle((u, e) -> e instanceof CompletionException c ? c.getCause() : e).join())
                .isInstanceOf(AuthQuery.Failed.class)
                .hasMessageNotContaining("plain-secret");
    }

    @Test
    void aReloadThatChangesTheAuthSettingsForgetsTheAnswers() {
        TenantConfig config = TenantConfig.of("acme", UpstreamConfig.of("db", 5432), List.of()).withAuthQuery(LONG);
        TenantRegistry registry = new TenantRegistry(PgmuxConfig.of(config), RANDOM);
        Tenant tenant = registry.find("acme");
        Upstream upstream = new Upstream();
        tenant.lookUp("app", upstream::run);
        upstream.pending.complete(Optional.of(VERIFIER));
        assertThat(tenant.user("app")).isNotNull();
        assertThat(tenant.user("pgbouncer")).as("the auth_user may log in as a client").isSameAs(tenant.authUser());

        registry.update(PgmuxConfig.of(config.withMaxClients(5)));
        assertThat(tenant.user("app")).as("other settings changed: kept").isNotNull();

        registry.update(PgmuxConfig.of(config.withAuthQuery(new AuthQueryConfig(LONG.user(), AuthQueryConfig.SUPABASE_QUERY,
                LONG.cacheTtl(), LONG.failureTtl()))));
        assertThat(tenant.user("app")).as("auth_query changed: forgotten").isNull();
    }
}
