package dev.pgmux.proxy.reload;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Optional;

/**
 * SIGHUP for pgmux, through {@code sun.misc.Signal} (module jdk.unsupported), looked up at run time: where
 * the JVM has no such class or refuses the signal (Windows, {@code -Xrs}), nothing is installed and reloads
 * go through the admin port instead.
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
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance("HUP");
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            run(action);
                            yield null;
                        }
                        case "equals" -> proxy == args[0];
                        case "hashCode" -> System.identityHashCode(proxy);
                        default -> "pgmux SIGHUP handler";
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            return Optional.of(() -> restore(handle, signal, previous));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null
                    ? ite.getCause() : e;
            log.info("SIGHUP cannot be handled in this JVM ({}): reload with POST /reload on the admin port",
                    cause.toString());
            return Optional.empty();
        }
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("SIGHUP: the reload failed", e);
        }
    }

    private static void restore(Method handle, Object signal, Object previous) {
        try {
            handle.invoke(null, signal, previous);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("SIGHUP: the previous handler could not be put back: {}", e.toString());
        }
    }
}
