package dev.pgmux.proxy.reload;

import dev.pgmux.proxy.lifecycle.Signals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * SIGHUP for pgmux (see {@link Signals}): where the JVM cannot handle it, nothing is installed and reloads go
 * through the admin port instead.
 */
public final class HangupSignal {
    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {}

    /** An installed handler; closing it puts back the handler that was there before. */
    public interface Installed extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Runs {@code action} on each SIGHUP, on the thread the JVM starts for the signal; whatever it throws is
     * logged. Empty when SIGHUP cannot be handled in this JVM.
     */
    public static Optional<Installed> install(Runnable action) {
        return Signals.install("HUP", () -> run(action), "reload with POST /reload on the admin port")
                .map(installed -> installed::close);
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("SIGHUP: the reload failed", e);
        }
    }
}
