package dev.pgmux.protocol.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Fails a test class when Netty reported a {@code ByteBuf} leak by the time its tests have run.
 *
 * <p>Registered for every test class by autodetection ({@code META-INF/services} and
 * {@code junit-platform.properties}). The check runs once per class rather than per test: it costs
 * a few garbage collections, and a leak is still reported against the class that caused it, or at
 * worst the one run right after it.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        if (context.getParent().flatMap(ExtensionContext::getParent).isEmpty()) {
            LeakDetection.install(); // no-op when the launcher listener already did it
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getParent().flatMap(ExtensionContext::getParent).isPresent()) {
            return; // a @Nested class: its enclosing class checks
        }
        if (!LeakDetection.effective()) {
            throw new AssertionError("ByteBuf leak detection is not active: a ByteBuf class was initialised before"
                    + " LeakDetection.install() (is LeakDetectionListener registered as a LauncherSessionListener?)");
        }
        LeakDetection.detect();
        List<LeakDetection.Leak> leaks = LeakDetection.leaks();
        if (leaks.isEmpty()) {
            return;
        }
        LeakDetection.forget(leaks::contains);
        throw new AssertionError(leaks.size() + " ByteBuf leak(s) reported while running "
                + context.getRequiredTestClass().getName() + ":\n"
                + leaks.stream().map(LeakDetection.Leak::toString).collect(Collectors.joining("\n\n")));
    }
}
