package dev.pgmux.proxy;

import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.proxy.log.LogOutput;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.lifecycle.Signals;

import io.netty.util.ResourceLeakDetector;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code java -jar pgmux.jar --config FILE}, {@code --upstream postgresql://USER:PASS@HOST:PORT/DB},
 * {@code check --config FILE}, {@code --help}, {@code --version} (see {@link PgmuxCommand}). Exit status: 0 ok
 * (also after a shutdown by SIGTERM, SIGINT or the console's SHUTDOWN), 1 invalid configuration (or pgmux could
 * not start), 2 a mistake on the command line.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        nettyDefaults();
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        switch (PgmuxCommand.execute(args, out, err)) {
            case PgmuxCommand.Outcome.Serve serve -> serve(serve.config(), serve.file());
            case PgmuxCommand.Outcome.Exit exit -> {
                if (exit.status() != PgmuxCommand.OK) {
                    System.exit(exit.status());
                }
            }
        }
    }

    /**
     * Starts pgmux and runs it until it is stopped: SIGTERM drains (each client ends once idle, up to
     * limits.shutdown_timeout), SIGINT stops at once (also in the middle of a drain), SIGHUP reloads; the
     * console's SHUTDOWN does either. The process then exits with status 0.
     */
    private static void serve(PgmuxConfig config, java.nio.file.Path file) {
        // log.format and log.level from the first line on; reloads switch them through the server.
        java.util.Optional<LogOutput> logOutput = LogOutput.console();
        logOutput.ifPresent(output -> output.apply(config.log()));
        PgmuxServer server;
        try {
            server = PgmuxServer.start(config);
        } catch (RuntimeException e) {
            System.err.println("pgmux: cannot start: " + e.getMessage());
            System.exit(PgmuxCommand.CANNOT_START);
            return;
        }
        logOutput.ifPresent(server::logOutput);
        server.reloadOnHangup(file); // SIGHUP re-reads the file (with --upstream there is none to re-read)
        Signals.install("TERM", () -> server.stop(ShutdownMode.WAIT_FOR_CLIENTS),
                "the shutdown hook drains instead, and the exit status is the JVM's (143)");
        Signals.install("INT", () -> server.stop(ShutdownMode.IMMEDIATE),
                "the shutdown hook drains instead, and the exit status is the JVM's (130)");
        // Whatever else ends the JVM (System.exit, a signal not handled above) drains first too, within bounds.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> awaitStop(server, server.stop(ShutdownMode.WAIT_FOR_CLIENTS)),
                "pgmux-shutdown-hook"));
        server.stopped().join();
        System.exit(0);
    }

    /** Waits for a drain, a little longer than it may take; the JVM is going down either way. */
    private static void awaitStop(PgmuxServer server, java.util.concurrent.CompletableFuture<Void> stopped) {
        Duration bound = server.runtime().config().limits().shutdownTimeout().plusSeconds(15);
        try {
            stopped.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            System.err.println("pgmux: the shutdown did not finish: " + e);
        }
    }

    /**
     * Netty settings that cost more per relayed message than they give a production pooler
     * (docs/benchmarks.md, "JVM options"); each system property, when given, wins. Runs before any Netty
     * class reads them.
     */
    private static void nettyDefaults() {
        // Per-thread object pools (outbound-buffer entries, slices, buffer-cache entries): plain
        // young-generation allocation is cheaper, 0.6-1.5 us of CPU per pgbench transaction.
        if (System.getProperty("io.netty.recycler.maxCapacityPerThread") == null) {
            System.setProperty("io.netty.recycler.maxCapacityPerThread", "0");
        }
        // Leak detection samples buffers and captures a stack trace for each. The tests run it paranoid.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
