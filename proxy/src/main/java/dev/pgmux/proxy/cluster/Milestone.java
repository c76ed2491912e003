package dev.pgmux.proxy.cluster;

import java.time.Duration;

/**
 * Something that happens once (the tenants read, the instance registered, the first lease sync), which pgmux's
 * start waits for with a deadline; a close stops the waiting.
 */
final class Milestone {
    private volatile boolean reached;
    private boolean abandoned;

    boolean reached() {
        return reached;
    }

    synchronized void reach() {
        reached = true;
        notifyAll();
    }

    /** Nothing more will happen (the owner closes): waiters return now. */
    synchronized void abandon() {
        abandoned = true;
        notifyAll();
    }

    /** Waits until reached, at most {@code max}; false if it was not in time (or was abandoned). */
    synchronized boolean await(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!reached && !abandoned) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return reached;
    }
}
