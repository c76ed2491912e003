package dev.pgmux.proxy.console;

/**
 * What the console asks of the process as a whole (RELOAD, SHUTDOWN); the server implements it. Called on
 * an event loop: an implementation must not block (hand long work to another thread).
 */
public interface ConsoleActions {
    /** The three SHUTDOWN forms, as PgBouncer documents them. */
    enum ShutdownMode {
        /** {@code SHUTDOWN}: stop now; the admin's connection closes without an answer. */
        IMMEDIATE,
        /** {@code SHUTDOWN WAIT_FOR_SERVERS}: stop accepting, pause, exit once every server is released. */
        WAIT_FOR_SERVERS,
        /** {@code SHUTDOWN WAIT_FOR_CLIENTS}: stop accepting, exit once every client has left. */
        WAIT_FOR_CLIENTS
    }

    /** How a RELOAD went: {@code problem} is null on success, else what the admin is told (no secrets). */
    record ReloadOutcome(String problem) {
        public static final ReloadOutcome OK = new ReloadOutcome(null);

        public static ReloadOutcome failed(String problem) {
            return new ReloadOutcome(problem);
        }

        public boolean ok() {
            return problem == null;
        }
    }

    /** Reads the configuration file again and applies it. */
    ReloadOutcome reload();

    /** Starts a shutdown; returns at once. */
    void shutdown(ShutdownMode mode);
}
