package dev.pgmux.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An io_uring event loop with one kernel timeout per deadline still runs its scheduled tasks when they are due:
 * on an idle loop (nothing but the timeout can wake it), when a task comes due earlier than the one the armed
 * timeout is for, and again and again; and it shuts down without waiting for a timeout still armed.
 */
@Timeout(30)
class SteadyTimeoutIoHandlerTest {
    private EventLoopGroup group;
    private EventLoop loop;

    @BeforeEach
    void start() {
        Assumptions.assumeTrue(IoUring.isAvailable(), "io_uring not available");
        group = Transport.IO_URING.newGroup(1, "steady-timeout-test");
        loop = group.next();
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void anIdleLoopRunsATaskWhenItIsDue() throws Exception {
        long ranAfter = runAfter(300).get(5, TimeUnit.SECONDS);
        assertThat(ranAfter).isBetween(300L, 1_500L);
    }

    @Test
    void aTaskDueEarlierThanTheArmedTimeoutIsNotKeptWaiting() throws Exception {
        CompletableFuture<Long> late = runAfter(20_000); // the timeout armed now is 20 s away
        waitUntilTheLoopSleeps();
        long ranAfter = runAfter(200).get(5, TimeUnit.SECONDS);
        assertThat(ranAfter).isBetween(200L, 1_500L);
        assertThat(late).isNotDone();
    }

    @Test
    void tasksScheduledOneAfterAnotherAllRun() throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(runAfter(10).get(5, TimeUnit.SECONDS)).isBetween(10L, 1_000L);
        }
    }

    @Test
    void shutdownDoesNotWaitForAnArmedTimeout() throws Exception {
        runAfter(60_000);
        waitUntilTheLoopSleeps();
        long start = System.nanoTime();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000L);
        group = null;
    }

    /** Schedules a task from outside the loop; completes with the milliseconds it waited. */
    private CompletableFuture<Long> runAfter(long millis) {
        CompletableFuture<Long> ran = new CompletableFuture<>();
        long start = System.nanoTime();
        loop.schedule(() -> ran.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)), millis,
                TimeUnit.MILLISECONDS);
        return ran;
    }

    /** A task run on the loop and answered: the loop has armed its timeout and gone back to sleep after it. */
    private void waitUntilTheLoopSleeps() throws Exception {
        loop.submit(() -> { }).get(5, TimeUnit.SECONDS);
    }
}
