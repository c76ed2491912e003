package dev.pgmux.proxy.lifecycle;

import dev.pgmux.config.Durations;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.pool.PoolAdmin;
import dev.pgmux.proxy.pool.ServerPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * How pgmux stops, whoever asks: SIGTERM and the console's {@code SHUTDOWN WAIT_FOR_CLIENTS} drain,
 * {@code SHUTDOWN WAIT_FOR_SERVERS} drains with the pools paused, SIGINT and {@code SHUTDOWN} stop at once.
 * One drain, on a thread of its own:
 *
 * <pre>
 *   1. /ready answers 503 and the client listeners close (the admin port stays); logins under way get
 *      FATAL 57P03 "the pooler is shutting down"
 *   2. WAIT_FOR_SERVERS: every pool is paused (no new checkouts; servers close as they are released)
 *   3. every client is ended with FATAL 57P01 as soon as it is idle: at once between transactions, else when
 *      its transaction ends (IMMEDIATE: at once, whatever it is doing)
 *   4. wait, up to limits.shutdown_timeout, until no client is left (WAIT_FOR_SERVERS: no server is left)
 *   5. whoever is left is ended now; a transaction still open rolls back as its server closes
 *   6. the pools close their servers (Terminate, then close), then the admin port and the event loops stop
 * </pre>
 *
 * A later IMMEDIATE (a SIGINT during a drain) cuts the wait of step 4 short. Every wait is bounded.
 */
public final class Shutdown {
    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** For the clients told to go to be gone: a told client may linger up to 2 s (ClientConnection.fatal). */
    private static final Duration CLIENTS_GONE = Duration.ofSeconds(4);
    /** For the servers to close after their pools did. */
    private static final Duration SERVERS_GONE = Duration.ofSeconds(3);

    private final ProxyRuntime runtime;
    private final Runnable stopAccepting;
    private final Runnable stop;
    private final CountDownLatch hurry = new CountDownLatch(1);
    private Thread thread;

    /**
     * @param stopAccepting turns /ready off and closes the client listeners
     * @param stop          closes what is left (admin port, event loops); the process may exit after it
     */
    public Shutdown(ProxyRuntime runtime, Runnable stopAccepting, Runnable stop) {
        this.runtime = runtime;
        this.stopAccepting = stopAccepting;
        this.stop = stop;
    }

    /** Starts the shutdown on its own thread and returns; a later call only hurries it along (IMMEDIATE). */
    public synchronized void start(ShutdownMode mode) {
        if (thread == null) {
            thread = new Thread(() -> run(mode), "pgmux-shutdown");
            thread.setDaemon(false);
            thread.start();
        } else if (mode == ShutdownMode.IMMEDIATE) {
            hurry();
        }
    }

    /** Ends the wait for idle clients now: whoever is left is ended at once. */
    public void hurry() {
        hurry.countDown();
    }

    private void run(ShutdownMode mode) {
        try {
            drain(mode);
        } catch (RuntimeException | Error e) {
            log.error("shutdown: the drain failed; stopping anyway", e);
        } finally {
            stop.run();
        }
    }

    private void drain(ShutdownMode mode) {
        long started = System.nanoTime();
        Duration timeout = mode == ShutdownMode.IMMEDIATE ? Duration.ZERO : runtime.config().limits().shutdownTimeout();
        log.info("shutting down ({}): {} client(s) connected{}", describe(mode), runtime.clients().size(),
                timeout.isZero() ? "" : "; waiting up to " + Durations.format(timeout) + " (limits.shutdown_timeout)");
        stopAccepting.run(); // first: no connection is accepted only to be refused at its login
        runtime.clients().stopAdmitting();
        if (mode == ShutdownMode.WAIT_FOR_SERVERS) {
            runtime.pools().admin().pause(PoolAdmin.Database.ALL);
        }
        for (ClientConnection client : runtime.clients().all()) {
            if (mode == ShutdownMode.IMMEDIATE) {
                client.endNow();
            } else {
                client.endWhenIdle();
            }
        }
        BooleanSupplier drained = mode == ShutdownMode.WAIT_FOR_SERVERS
                ? () -> openServers() == 0
                : () -> runtime.clients().size() == 0;
        if (!await(drained, timeout, true) && mode != ShutdownMode.IMMEDIATE) {
            log.info("shutdown: {} client(s) still connected after {} ms{}; ending them now (open transactions roll back)",
                    runtime.clients().size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                    hurry.getCount() == 0 ? " (asked to stop at once)" : "");
        }
        runtime.clients().all().forEach(ClientConnection::endNow);
        if (!await(() -> runtime.clients().size() == 0, CLIENTS_GONE, false)) {
            log.warn("shutdown: {} client connection(s) still open; the event loops close them", runtime.clients().size());
        }
        runtime.pools().close();
        if (!await(() -> openServers() == 0, SERVERS_GONE, false)) {
            log.warn("shutdown: {} server connection(s) still open; the event loops close them", openServers());
        }
        log.info("shutdown: drained in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    private static String describe(ShutdownMode mode) {
        return switch (mode) {
            case IMMEDIATE -> "immediate: every client ends now";
            case WAIT_FOR_SERVERS -> "wait for servers: pools paused, clients end when idle";
            case WAIT_FOR_CLIENTS -> "wait for clients: each ends when idle";
        };
    }

    /** Server connections not yet closed, in every pool. */
    private int openServers() {
        int open = 0;
        for (ServerPool pool : runtime.pools().all()) {
            open += pool.stats().open();
        }
        return open;
    }

    /** Polls until {@code done} holds, up to {@code max}; when {@code hurriable}, a {@link #hurry} ends it too. */
    private boolean await(BooleanSupplier done, Duration max, boolean hurriable) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || (hurriable && hurry.getCount() == 0)) {
                return false;
            }
            LockSupport.parkNanos(Math.min(left, POLL_NANOS));
        }
        return true;
    }
}
