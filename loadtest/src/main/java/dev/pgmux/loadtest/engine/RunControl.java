package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.stats.Latency;
import dev.pgmux.loadtest.stats.StatsCollector;
import dev.pgmux.loadtest.stats.UserCounts;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The state a run's threads share: its phase, the user counts, the running user threads. */
final class RunControl {
    final StatsCollector stats;
    private final int maxActiveUsers;
    private volatile boolean injectionEnded;
    private volatile boolean hardStopped;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong finished = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong stoppedAtDeadline = new AtomicLong();
    private final AtomicLong nextUserId = new AtomicLong();
    private final Set<Thread> userThreads = ConcurrentHashMap.newKeySet();
    /** How late open-model users started compared with their schedule: the load generator's own lag. */
    private final Recorder startLag = Latency.recorder();

    RunControl(StatsCollector stats, int maxActiveUsers) {
        this.stats = stats;
        this.maxActiveUsers = maxActiveUsers;
    }

    boolean injectionEnded() {
        return injectionEnded;
    }

    void endInjection() {
        injectionEnded = true;
    }

    boolean hardStopped() {
        return hardStopped;
    }

    /** The deadline: running users are interrupted (a blocked socket read then fails at once). */
    void hardStop() {
        hardStopped = true;
        userThreads.forEach(Thread::interrupt);
    }

    /**
     * Starts a user on a virtual thread, unless the cap on active users is reached (then it is counted as
     * dropped, as k6 counts dropped iterations). Returns false when dropped.
     */
    boolean startUser(UserGroup group, long intendedStartNanos, boolean open) {
        if (active.get() >= maxActiveUsers) {
            dropped.incrementAndGet();
            return false;
        }
        long id = nextUserId.getAndIncrement();
        active.incrementAndGet();
        group.active.incrementAndGet();
        started.incrementAndGet();
        VirtualUser user = new VirtualUser(id, group, this, intendedStartNanos, open);
        Thread t = Thread.ofVirtual().unstarted(user);
        userThreads.add(t);
        t.start();
        return true;
    }

    void userFinished(UserGroup group, boolean interrupted) {
        userThreads.remove(Thread.currentThread());
        if (interrupted) {
            stoppedAtDeadline.incrementAndGet();
        }
        finished.incrementAndGet();
        group.active.decrementAndGet();
        active.decrementAndGet();
        group.finishedSignal.release();
    }

    void recordStartLag(long nanos) {
        startLag.recordValue(Latency.micros(nanos));
    }

    Histogram startLagHistogram() {
        return startLag.getIntervalHistogram();
    }

    int active() {
        return active.get();
    }

    UserCounts counts() {
        return new UserCounts(active.get(), started.get(), finished.get(), dropped.get());
    }

    long stoppedAtDeadline() {
        return stoppedAtDeadline.get();
    }
}
