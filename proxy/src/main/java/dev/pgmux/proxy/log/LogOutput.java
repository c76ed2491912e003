package dev.pgmux.proxy.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.pgmux.config.LogConfig;
import dev.pgmux.config.LogFormat;
import org.slf4j.LoggerFactory;

import java.io.OutputStream;
import java.util.Optional;

/**
 * Where pgmux's log lines go and in which format ({@code log.format}, {@code log.level}), switched at run time:
 * two appenders to the same stream, one with the pattern encoder of {@code logback.xml} and one with logback's
 * {@link JsonEncoder}, of which one at a time is attached. The switch attaches the new one before it detaches
 * the old one, so no line is lost (a line logged at that very moment may come out in both formats).
 *
 * <p>In a pgmux process this is the root logger's {@code STDERR} appender that {@code logback.xml} sets up
 * ({@link #console()}); when logging is set up otherwise (a {@code logback.configurationFile} of the operator's),
 * {@code log.format} and {@code log.level} leave it alone.
 */
public final class LogOutput implements AutoCloseable {
    /** The text format: the pattern of {@code logback.xml}. */
    public static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";
    private static final String CONSOLE_APPENDER = "STDERR";

    private final Logger logger;
    private final Appender<ILoggingEvent> text;
    private final Appender<ILoggingEvent> json;
    private final Level initialLevel;
    private final boolean ownsText;
    private LogFormat format = LogFormat.TEXT;

    private LogOutput(Logger logger, Appender<ILoggingEvent> text, Appender<ILoggingEvent> json, boolean ownsText) {
        this.logger = logger;
        this.text = text;
        this.json = json;
        this.initialLevel = logger.getLevel();
        this.ownsText = ownsText;
    }

    /**
     * The process's log on standard error, as {@code logback.xml} sets it up; empty when logback is not the
     * SLF4J binding or its configuration is not pgmux's own.
     */
    public static Optional<LogOutput> console() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return Optional.empty();
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (!(root.getAppender(CONSOLE_APPENDER) instanceof ConsoleAppender<ILoggingEvent> console)) {
            return Optional.empty();
        }
        ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
        json.setTarget(console.getTarget());
        return Optional.of(new LogOutput(root, console, start(json, context, CONSOLE_APPENDER + "_JSON",
                jsonEncoder(context)), false));
    }

    /**
     * The lines of {@code loggerName} and the loggers below it, written to {@code out} as well (in the text format
     * until {@link #apply} says otherwise); {@link #close()} detaches it and closes {@code out}. For tests, and for
     * embedding pgmux.
     */
    public static LogOutput to(OutputStream out, String loggerName) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger logger = context.getLogger(loggerName);
        PatternLayoutEncoder pattern = new PatternLayoutEncoder();
        pattern.setContext(context);
        pattern.setPattern(TEXT_PATTERN);
        pattern.start();
        OutputStreamAppender<ILoggingEvent> text = new OutputStreamAppender<>();
        text.setOutputStream(out);
        OutputStreamAppender<ILoggingEvent> json = new OutputStreamAppender<>();
        json.setOutputStream(out);
        LogOutput output = new LogOutput(logger, start(text, context, "pgmux-text", pattern),
                start(json, context, "pgmux-json", jsonEncoder(context)), true);
        logger.addAppender(output.text);
        return output;
    }

    private static <A extends OutputStreamAppender<ILoggingEvent>> A start(A appender, LoggerContext context,
                                                                          String name, Encoder<ILoggingEvent> encoder) {
        appender.setContext(context);
        appender.setName(name);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }

    /** One JSON object per line: time (epoch ms), level, thread, logger, the line's key-value pairs, message, error. */
    private static JsonEncoder jsonEncoder(LoggerContext context) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithMessage(false); // the formatted message is the one to read
        encoder.setWithArguments(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        return encoder;
    }

    /** Switches to the configured format and level (an unset level: the one the logging setup gave). */
    public synchronized void apply(LogConfig config) {
        if (config.format() != format) {
            Appender<ILoggingEvent> next = config.format() == LogFormat.JSON ? json : text;
            Appender<ILoggingEvent> previous = format == LogFormat.JSON ? json : text;
            logger.addAppender(next);
            logger.detachAppender(previous);
            format = config.format();
        }
        logger.setLevel(config.level().map(level -> Level.toLevel(level.name(), initialLevel)).orElse(initialLevel));
    }

    public synchronized LogFormat format() {
        return format;
    }

    /** Back to the text format and the initial level; the appenders of {@link #to} are detached and stopped. */
    @Override
    public synchronized void close() {
        apply(LogConfig.defaults());
        json.stop();
        if (ownsText) {
            logger.detachAppender(text);
            text.stop();
        }
    }
}
