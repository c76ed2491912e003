package dev.pgmux.config;

import java.util.Locale;

/** Whether clients may, or must, speak TLS to pgmux. */
public enum TlsMode {
    /** SSLRequest is answered {@code N}; every client speaks plaintext. */
    DISABLED,
    /** SSLRequest is answered {@code S}; clients that do not ask stay in plaintext. */
    ALLOWED,
    /** Plaintext clients are refused. */
    REQUIRED;

    /** The name as written in the configuration file: {@code disabled}, {@code allowed}, {@code required}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
