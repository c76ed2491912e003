package dev.pgmux.config;

import java.util.Locale;

/** The network transport pgmux's event loops use ({@code listen.transport}). */
public enum IoTransport {
    /** io_uring where the kernel allows it, else epoll, else NIO. */
    AUTO,
    IO_URING,
    EPOLL,
    NIO;

    /** The name as written in the configuration file: {@code auto}, {@code io_uring}, {@code epoll}, {@code nio}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
