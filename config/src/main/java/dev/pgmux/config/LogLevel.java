package dev.pgmux.config;

import java.util.Locale;

/** The least severe log level pgmux writes ({@code log.level}). */
public enum LogLevel {
    ERROR,
    WARN,
    INFO,
    DEBUG,
    TRACE;

    /** The name as written in the configuration file: {@code error}, {@code warn}, ... */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
