package dev.pgmux.proxy.log;

import dev.pgmux.config.LogConfig;
import dev.pgmux.proxy.pool.PoolRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * pgmux's operator logs as a service of the process: the connection lines ({@link ConnectionLog}), the
 * periodic statistics lines ({@link StatsLog}), the limit on repeated lines ({@link Repeats}), and the
 * output format ({@link LogOutput}, when the process has one). Every setting is read from the configuration
 * in effect when it is used, so a reload applies it; the format and level are switched by {@link #reconfigure}.
 *
 * <p>Its timer runs on a thread of its own, once a second: the summaries of held-back repeats, and the
 * statistics lines when their period is over. No event loop waits for a log line of its.
 */
public final class Logs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Logs.class);

    private final Supplier<LogConfig> config;
    private final Repeats repeats;
    private final ConnectionLog connections;
    private final StatsLog stats;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pgmux-logs").factory());
    private volatile LogOutput output;

    /**
     * @param config  the log settings in effect (read at each use)
     * @param pools   whose statistics are logged
     * @param repeats the process's limit on repeated lines (the server connections use it too)
     */
    public Logs(Supplier<LogConfig> config, PoolRegistry pools, Repeats repeats) {
        this.config = config;
        this.repeats = repeats;
        this.connections = new ConnectionLog(config, repeats);
        this.stats = new StatsLog(pools, System.nanoTime());
        timer.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    public ConnectionLog connections() {
        return connections;
    }

    /** For lines that may repeat in storms: written once per {@code log.repeat_interval} and key. */
    public Repeats repeats() {
        return repeats;
    }

    /** Makes {@code output} follow {@code log.format} and {@code log.level}, now and on every reload. */
    public void output(LogOutput output) {
        this.output = output;
        output.apply(config.get());
    }

    /** On reload: the new format and level (the other settings are read where they are used). */
    public void reconfigure(LogConfig next) {
        LogOutput current = output;
        if (current != null) {
            current.apply(next);
        }
    }

    private void tick() {
        try {
            repeats.flush();
            stats.tick(config.get().statsPeriod(), System.nanoTime());
        } catch (RuntimeException e) {
            log.warn("writing the periodic log lines failed: {}", e.toString(), e); // and the next tick tries again
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        repeats.flushAll();
    }
}
