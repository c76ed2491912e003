package dev.pgmux.proxy.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * The log events of one logger (and those below it) while a test runs: an appender attached to it, optionally
 * at another level, both undone by {@link #close()}. Safe to read while pgmux's threads log.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level levelBefore;
    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            event.prepareForDeferredProcessing();
            events.add(event);
        }
    };

    private LogCapture(String loggerName, Level level) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        this.logger = context.getLogger(loggerName);
        this.levelBefore = logger.getLevel();
        appender.setContext(context);
        appender.setName("test-capture");
        appender.start();
        if (level != null) {
            logger.setLevel(level);
        }
        logger.addAppender(appender);
    }

    /** The events of {@code loggerName} at the levels the logging setup lets through. */
    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName, null);
    }

    /** The events of {@code loggerName} from {@code level} up, whatever the logging setup says. */
    public static LogCapture of(String loggerName, Level level) {
        return new LogCapture(loggerName, level);
    }

    public List<ILoggingEvent> events() {
        return List.copyOf(events);
    }

    public List<ILoggingEvent> events(Predicate<ILoggingEvent> which) {
        return events.stream().filter(which).toList();
    }

    /** The formatted messages, one per line. */
    public String text() {
        StringBuilder out = new StringBuilder();
        events.forEach(e -> out.append(e.getFormattedMessage()).append('\n'));
        return out.toString();
    }

    /** Waits for an event that matches and returns the first one. */
    public ILoggingEvent await(String what, Predicate<ILoggingEvent> which) {
        Wait.until(what, () -> !events(which).isEmpty(), this::text);
        return events(which).get(0);
    }

    /** An event's key-value pairs, their values as text. */
    public static Map<String, String> fields(ILoggingEvent event) {
        Map<String, String> fields = new LinkedHashMap<>();
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            pairs.forEach(p -> fields.put(p.key, String.valueOf(p.value)));
        }
        return fields;
    }

    /** Events whose key-value pairs include {@code key} = {@code value}. */
    public static Predicate<ILoggingEvent> field(String key, Object value) {
        return e -> String.valueOf(value).equals(fields(e).get(key));
    }

    public void clear() {
        events.clear();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(levelBefore);
    }
}
