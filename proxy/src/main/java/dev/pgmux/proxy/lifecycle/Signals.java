package dev.pgmux.proxy.lifecycle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Optional;

/**
 * Handlers for the signals pgmux acts on (HUP, TERM, INT), through {@code sun.misc.Signal} (module
 * jdk.unsupported), looked up at run time: where the JVM has no such class or refuses the signal (Windows,
 * {@code -Xrs}), nothing is installed and the JVM keeps its own behaviour.
 */
public final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /** An installed handler; closing it puts back the handler that was there before. */
    public interface Installed extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Runs {@code action} on each signal {@code name} ({@code "TERM"}, without the SIG), on the thread the JVM
     * starts for it; whatever it throws is logged. Empty, logged with {@code otherwise} (what to do instead),
     * when this JVM cannot handle the signal.
     */
    public static Optional<Installed> install(String name, Runnable action, String otherwise) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            run(name, action);
                            yield null;
                        }
                        case "equals" -> proxy == args[0];
                        case "hashCode" -> System.identityHashCode(proxy);
                        default -> "pgmux SIG" + name + " handler";
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            return Optional.of(() -> restore(name, handle, signal, previous));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : e;
            log.info("SIG{} cannot be handled in this JVM ({}): {}", name, cause.toString(), otherwise);
            return Optional.empty();
        }
    }

    private static void run(String name, Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("SIG{}: the handler failed", name, e);
        }
    }

    private static void restore(String name, Method handle, Object signal, Object previous) {
        try {
            handle.invoke(null, signal, previous);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("SIG{}: the previous handler could not be put back: {}", name, e.toString());
        }
    }
}
