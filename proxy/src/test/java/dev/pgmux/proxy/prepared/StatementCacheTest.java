package dev.pgmux.proxy.prepared;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

class StatementCacheTest {
    private static final int[] NO_TYPES = {};

    @Test
    void sameTextAndTypesShareOneDefinition() {
        StatementCache cache = new StatementCache(q -> false);
        StatementDef a = cache.acquire("SELECT $1", new int[]{23}, false);
        StatementDef b = cache.acquire("SELECT $1", new int[]{23}, false);
        StatementDef other = cache.acquire("SELECT $1", new int[]{25}, false);
        assertThat(b).isSameAs(a);
        assertThat(a.references()).isEqualTo(2);
        assertThat(other).isNotSameAs(a);
        assertThat(other.serverName()).isNotEqualTo(a.serverName());
    }

    @Test
    void aDefinitionNoClientHoldsIsKeptSoServersHoldingItServeItsNextParse() {
        StatementCache cache = new StatementCache(q -> false, 2);
        StatementDef first = cache.acquire("SELECT 1", NO_TYPES, false);
        cache.release(first);
        assertThat(first.references()).isZero();
        assertThat(cache.definitions()).containsExactly(first);

        StatementDef again = cache.acquire("SELECT 1", NO_TYPES, false);
        assertThat(again).isSameAs(first);
        assertThat(again.references()).isEqualTo(1);
    }

    @Test
    void beyondTheIdleLimitTheLeastRecentlyLetGoIsForgotten() {
        StatementCache cache = new StatementCache(q -> false, 2);
        StatementDef one = cache.acquire("SELECT 1", NO_TYPES, false);
        StatementDef two = cache.acquire("SELECT 2", NO_TYPES, false);
        StatementDef three = cache.acquire("SELECT 3", NO_TYPES, false);
        StatementDef held = cache.acquire("SELECT 4", NO_TYPES, false);
        cache.release(one);
        cache.release(two);
        // one is taken up and let go again: now two is the least recently let go
        cache.release(cache.acquire("SELECT 1", NO_TYPES, false));
        cache.release(three);

        assertThat(cache.definitions()).containsExactlyInAnyOrder(one, three, held);
        StatementDef fresh = cache.acquire("SELECT 2", NO_TYPES, false);
        assertThat(fresh).isNotSameAs(two);
        assertThat(fresh.serverName()).isNotEqualTo(two.serverName());
        assertThat(cache.acquire("SELECT 1", NO_TYPES, false)).isSameAs(one);
    }

    @Test
    void definitionsInUseAreNeverForgotten() {
        StatementCache cache = new StatementCache(q -> false, 1);
        StatementDef held = cache.acquire("SELECT 0", NO_TYPES, false);
        StatementDef idleOnce = cache.acquire("SELECT 0", NO_TYPES, false);
        cache.release(idleOnce); // still one reference: not idle
        for (int i = 1; i <= 10; i++) {
            cache.release(cache.acquire("SELECT " + i, NO_TYPES, false));
        }
        assertThat(cache.acquire("SELECT 0", NO_TYPES, false)).isSameAs(held);
        assertThat(cache.size()).isEqualTo(2); // SELECT 0 and the last one let go
    }

    /** Clients on several event loops take up and let go of the same few texts: one definition per text at any time. */
    @Test
    @Timeout(60)
    void concurrentAcquireAndReleaseKeepOneDefinitionPerText() throws Exception {
        StatementCache cache = new StatementCache(q -> false, 3);
        int threads = 4;
        int texts = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                running.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 200_000; i++) {
                        String text = "SELECT " + ((i * 7 + seed) % texts);
                        StatementDef def = cache.acquire(text, NO_TYPES, false);
                        assertThat(def.query()).isEqualTo(text);
                        assertThat(def.references()).isPositive();
                        cache.release(def);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(cache.size()).isLessThanOrEqualTo(3);
        for (StatementDef def : cache.definitions()) {
            assertThat(def.references()).isZero();
            assertThat(cache.acquire(def.query(), NO_TYPES, false)).isSameAs(def);
        }
    }
}
