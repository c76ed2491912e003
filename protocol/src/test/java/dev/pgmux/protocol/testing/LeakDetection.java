package dev.pgmux.protocol.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Makes Netty's leak detector report to the tests instead of only to the log.
 *
 * <p>{@link #install()} must run before any {@code ByteBuf} class is initialised, because
 * {@code AbstractByteBuf} creates its detector once, in its static initialiser: the
 * {@link LeakDetectionListener} does it when the JUnit Platform launcher session opens, before test
 * classes are loaded. Netty reports a leak only when a tracked buffer is allocated after the garbage
 * collector has cleared the leaked one; {@link #detect()} forces both.
 */
public final class LeakDetection {
    private LeakDetection() {}

    /** One leak as Netty reports it; {@code records} is empty for an untraced leak. */
    public record Leak(String resourceType, String records) {
        @Override
        public String toString() {
            return "LEAK: " + resourceType + (records.isEmpty() ? " (no access records)" : records);
        }
    }

    private static final List<Leak> LEAKS = new CopyOnWriteArrayList<>();
    private static final Set<String> DETECTORS = ConcurrentHashMap.newKeySet();
    private static volatile boolean installed;

    /** Installs the recording factory and paranoid level; later calls do nothing. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        installed = true;
    }

    /** True once {@code ByteBuf}'s detector came from this class (false if ByteBuf was initialised too early). */
    public static boolean effective() {
        allocateAndRelease();
        return DETECTORS.contains(ByteBuf.class.getName());
    }

    /** The leaks reported so far and not yet {@link #clear() cleared}. */
    public static List<Leak> leaks() {
        return List.copyOf(LEAKS);
    }

    public static void clear() {
        LEAKS.clear();
    }

    /** Forgets the leaks that match, for a test that leaks on purpose. */
    public static void forget(Predicate<Leak> which) {
        LEAKS.removeIf(which);
    }

    /**
     * Collects garbage a few times, allocating tracked buffers after each collection so that every
     * detector drains its reference queue and reports what it found.
     */
    @SuppressWarnings("removal")
    public static void detect() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            System.runFinalization();
            pause(10);
            allocateAndRelease();
        }
    }

    /** Runs {@link #detect()} until a leak matching {@code which} is reported or the time is up. */
    public static boolean awaitLeak(Predicate<Leak> which, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        do {
            detect();
            if (LEAKS.stream().anyMatch(which)) {
                return true;
            }
        } while (System.nanoTime() < deadline);
        return false;
    }

    private static void allocateAndRelease() {
        ByteBufAllocator[] allocators = {PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT};
        for (ByteBufAllocator allocator : allocators) {
            allocator.heapBuffer(8).release();
            allocator.directBuffer(8).release();
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            DETECTORS.add(resource.getName());
            return new RecordingDetector<>(resource, samplingInterval);
        }

        /** Netty's abstract method; {@code maxActive} is ignored by Netty itself. */
        @Override
        @Deprecated
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        /** Report even when the logging backend has errors turned off. */
        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add(new Leak(resourceType, records));
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            LEAKS.add(new Leak(resourceType, ""));
            super.reportUntracedLeak(resourceType);
        }
    }
}
