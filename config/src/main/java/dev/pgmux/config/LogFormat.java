package dev.pgmux.config;

import java.util.Locale;

/** How pgmux writes its log lines ({@code log.format}). */
public enum LogFormat {
    /** One line of text per event: time, level, logger, message. */
    TEXT,
    /** One JSON object per line (logback's JSON encoder), with the fields of each event. */
    JSON;

    /** The name as written in the configuration file: {@code text}, {@code json}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
