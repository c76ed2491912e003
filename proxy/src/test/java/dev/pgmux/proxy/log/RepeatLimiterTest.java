package dev.pgmux.proxy.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.log.RepeatLimiter.Admission;
import dev.pgmux.proxy.log.RepeatLimiter.HeldBack;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** One line per key and interval, the rest counted and handed out once. Time is given, not read. */
class RepeatLimiterTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long INTERVAL = 10 * SECOND;

    private final RepeatLimiter<String> limiter = new RepeatLimiter<>();

    @Test
    void theFirstLineOfAKeyIsWrittenAndItsRepeatsWithinTheIntervalAreHeldBack() {
        assertThat(limiter.admit("a", "first", INTERVAL, 0)).isEqualTo(new Admission<>(true, null));
        assertThat(limiter.admit("a", "second", INTERVAL, SECOND).write()).isFalse();
        assertThat(limiter.admit("a", "third", INTERVAL, INTERVAL - 1).write()).isFalse();
        assertThat(limiter.admit("b", "other key", INTERVAL, SECOND).write()).as("another key").isTrue();
    }

    @Test
    void theNextLineAfterTheIntervalIsWrittenWithTheCountOfThoseHeldBack() {
        limiter.admit("a", "1", INTERVAL, 0);
        limiter.admit("a", "2", INTERVAL, 1);
        limiter.admit("a", "3", INTERVAL, 2);

        Admission<String> next = limiter.admit("a", "4", INTERVAL, INTERVAL);

        assertThat(next.write()).isTrue();
        assertThat(next.heldBack()).isEqualTo(new HeldBack<>("a", "3", 2, 0));
        assertThat(limiter.admit("a", "5", INTERVAL, INTERVAL + 1).write()).as("a new interval began at 4").isFalse();
        assertThat(limiter.admit("a", "6", INTERVAL, 2 * INTERVAL))
                .isEqualTo(new Admission<>(true, new HeldBack<>("a", "5", 1, INTERVAL)));
    }

    @Test
    void expiredHandsOutEachCountOnceAndForgetsQuietKeys() {
        limiter.admit("storm", "s", INTERVAL, 0);
        limiter.admit("storm", "s", INTERVAL, 1);
        limiter.admit("single", "x", INTERVAL, 0);
        limiter.admit("late", "l", INTERVAL, 5 * SECOND);
        limiter.admit("late", "l", INTERVAL, 6 * SECOND);

        assertThat(limiter.expired(INTERVAL, INTERVAL - 1)).isEmpty();
        assertThat(limiter.expired(INTERVAL, INTERVAL)).containsExactly(new HeldBack<>("storm", "s", 1, 0));
        assertThat(limiter.size()).as("only 'late' is followed still").isEqualTo(1);
        assertThat(limiter.expired(INTERVAL, INTERVAL)).isEmpty();
        assertThat(limiter.admit("storm", "s", INTERVAL, INTERVAL + 1)).as("counted already: not again")
                .isEqualTo(new Admission<>(true, null));
        assertThat(limiter.expired(0, INTERVAL + 1)).as("an interval of zero: everything is over")
                .containsExactly(new HeldBack<>("late", "l", 1, 5 * SECOND));
    }

    @Test
    void anIntervalOfZeroWritesEveryLine() {
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.admit("a", "line", 0, i)).isEqualTo(new Admission<>(true, null));
        }
        assertThat(limiter.size()).isZero();
    }

    @Test
    void beyondItsBoundNewKeysAreWrittenUncounted() {
        for (int i = 0; i < RepeatLimiter.MAX_KEYS; i++) {
            limiter.admit("key" + i, "x", INTERVAL, 0);
        }
        assertThat(limiter.admit("one more", "x", INTERVAL, 1).write()).isTrue();
        assertThat(limiter.admit("one more", "x", INTERVAL, 2).write()).as("not followed: never held back").isTrue();
        assertThat(limiter.admit("key0", "x", INTERVAL, 1).write()).as("followed keys still are").isFalse();
        assertThat(limiter.size()).isEqualTo(RepeatLimiter.MAX_KEYS);
    }

    @Test
    void concurrentRepeatsWriteOneLineAndCountTheRest() throws Exception {
        int threads = 8;
        int each = 10_000;
        AtomicInteger written = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < each; i++) {
                    if (limiter.admit("storm", "s", INTERVAL, 1).write()) {
                        written.incrementAndGet();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }

        assertThat(written.get()).isEqualTo(1);
        assertThat(limiter.expired(INTERVAL, INTERVAL + 1))
                .containsExactly(new HeldBack<>("storm", "s", threads * each - 1, 1));
    }
}
