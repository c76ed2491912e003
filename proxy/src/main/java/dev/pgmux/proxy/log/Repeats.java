package dev.pgmux.proxy.log;

import dev.pgmux.proxy.log.RepeatLimiter.Admission;
import dev.pgmux.proxy.log.RepeatLimiter.HeldBack;
import org.slf4j.Logger;
import org.slf4j.event.Level;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Log lines that can come in storms (a burst of failed logins, every client of a lost upstream saying so): the
 * first of a kind is written, its repeats within {@code log.repeat_interval} are counted, and one more line
 * says how many there were. A kind is a key the caller chooses, such as {@code "upstream connection lost
 * (acme/postgres/app)"}: lines that would tell an operator nothing new.
 */
public final class Repeats {
    /** Writes what is to be said about {@code count} lines held back over {@code seconds}. */
    @FunctionalInterface
    public interface Summary {
        void write(long count, long seconds);
    }

    private final RepeatLimiter<Summary> limiter = new RepeatLimiter<>();
    private final Supplier<Duration> interval;
    private final LongSupplier nanoClock;

    /**
     * @param interval  read at each line: the configuration in effect
     * @param nanoClock {@link System#nanoTime} but in tests
     */
    public Repeats(Supplier<Duration> interval, LongSupplier nanoClock) {
        this.interval = interval;
        this.nanoClock = nanoClock;
    }

    /**
     * Runs {@code line}, which writes the line, unless a line of {@code key} was written less than the repeat
     * interval ago; then {@code heldBack} is what will be said about the lines held back.
     */
    public void write(String key, Summary heldBack, Runnable line) {
        long now = nanoClock.getAsLong();
        Admission<Summary> admission = limiter.admit(key, heldBack, interval.get().toNanos(), now);
        if (admission.heldBack() != null) {
            summarise(admission.heldBack(), now);
        }
        if (admission.write()) {
            line.run();
        }
    }

    /** {@code log.info(format, args)}, at most once per repeat interval for {@code key}. */
    public void info(Logger log, String key, String format, Object... args) {
        if (log.isInfoEnabled()) {
            write(key, summary(log, Level.INFO, key), () -> log.info(format, args));
        }
    }

    /** {@code log.warn(format, args)}, at most once per repeat interval for {@code key}. */
    public void warn(Logger log, String key, String format, Object... args) {
        if (log.isWarnEnabled()) {
            write(key, summary(log, Level.WARN, key), () -> log.warn(format, args));
        }
    }

    /** The usual summary: "{@code what}: N more like this in S s", with a {@code repeats} field. */
    public static Summary summary(Logger log, Level level, String what) {
        return (count, seconds) -> log.atLevel(level).addKeyValue("repeats", count)
                .log("{}: {} more like this in {} s", what, count, seconds);
    }

    /** Writes the summaries of the keys whose interval is over. Run every second. */
    public void flush() {
        long now = nanoClock.getAsLong();
        for (HeldBack<Summary> held : limiter.expired(interval.get().toNanos(), now)) {
            summarise(held, now);
        }
    }

    /** Writes the summaries of every key that held lines back, its interval over or not: at the end. */
    public void flushAll() {
        long now = nanoClock.getAsLong();
        for (HeldBack<Summary> held : limiter.expired(0, now)) {
            summarise(held, now);
        }
    }

    private static void summarise(HeldBack<Summary> held, long now) {
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(now - held.sinceNanos() + 500_000_000L));
        held.about().write(held.count(), seconds);
    }
}
