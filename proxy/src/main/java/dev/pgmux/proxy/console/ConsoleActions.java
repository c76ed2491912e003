package dev.pgmux.proxy.console;

import dev.pgmux.proxy.reload.ReloadResult;

import java.util.concurrent.CompletableFuture;

/**
 * What the console asks of the process as a whole (RELOAD, SHUTDOWN); the server implements it. Called on
 * an event loop: an implementation must not block (hand long work to another thread).
 */
public interface ConsoleActions {
    /** The three SHUTDOWN forms, as PgBouncer documents them; the signals map to them too (lifecycle.Shutdown). */
    enum ShutdownMode {
        /** {@code SHUTDOWN}, SIGINT: stop now; every client (the admin too, unanswered) gets 57P01. */
        IMMEDIATE,
        /** {@code SHUTDOWN WAIT_FOR_SERVERS}: stop accepting, pause, exit once every server is released. */
        WAIT_FOR_SERVERS,
        /** {@code SHUTDOWN WAIT_FOR_CLIENTS}, SIGTERM: stop accepting, end each client once idle, exit once all left. */
        WAIT_FOR_CLIENTS
    }

    /** Reads the configuration file again and applies it, off the event loop; completes with what it did. */
    CompletableFuture<ReloadResult> reloadConfiguration();

    /** Starts a shutdown; returns at once. */
    void shutdown(ShutdownMode mode);
}
