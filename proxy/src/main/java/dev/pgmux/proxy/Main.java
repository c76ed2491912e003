package dev.pgmux.proxy;

import dev.pgmux.config.ConfigException;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.UpstreamUrl;

import io.netty.util.ResourceLeakDetector;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar pgmux.jar --config FILE} or {@code --upstream postgresql://USER:PASS@HOST:PORT/DB}. */
public final class Main {
    private Main() {}

    private static final String USAGE = """
            usage: java -jar pgmux.jar --config FILE
                   java -jar pgmux.jar --upstream postgresql://USER:PASSWORD@HOST:PORT/DATABASE

              --config FILE      YAML configuration (see docs/configuration.md)
              --upstream URL     serve one tenant in front of this Postgres; clients log in with the same
                                 user and password
              --help             this text
            """;

    public static void main(String[] args) {
        nettyDefaults();
        PgmuxConfig config;
        try {
            config = parse(args);
        } catch (ConfigException e) {
            System.err.println("pgmux: " + e.getMessage());
            System.exit(2);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("pgmux: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (config == null) {
            System.out.print(USAGE);
            return;
        }
        PgmuxServer server;
        try {
            server = PgmuxServer.start(config);
        } catch (RuntimeException e) {
            System.err.println("pgmux: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "pgmux-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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

    /** The configuration the arguments ask for, or null for --help. */
    static PgmuxConfig parse(String[] args) {
        String configFile = null;
        String upstream = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> configFile = value(args, ++i, "--config");
                case "--upstream" -> upstream = value(args, ++i, "--upstream");
                case "--help", "-h" -> {
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        if ((configFile == null) == (upstream == null)) {
            throw new IllegalArgumentException("give exactly one of --config FILE or --upstream URL");
        }
        return configFile != null ? ConfigLoader.load(Path.of(configFile)) : UpstreamUrl.toConfig(upstream);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }
}
