package dev.pgmux.proxy.net;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.Buffer;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;
import io.netty.util.internal.CleanableDirectBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * An io_uring event loop's handler that keeps one kernel timeout armed for the loop's next scheduled task,
 * instead of arming one at every wait.
 *
 * <p>Netty's io_uring handler, each time its loop goes to sleep, submits an {@code IORING_OP_TIMEOUT} for the
 * next scheduled task (or a second ahead when none is), which the next completion of anything ends: an extra
 * submission, completion and kernel timer per wait. A login sleeps about six times (each answer waits for the
 * client's next message), so that was a quarter of the operations a {@code pgbench -C} connection cost the ring.
 * This handler tells Netty's there is no deadline, so it sleeps until a completion, and keeps a timeout of its
 * own armed for the earliest deadline; that timeout is armed again only when it has fired, or when a task comes
 * due earlier than the armed one. Scheduled tasks therefore run when they are due, as before.
 */
final class SteadyTimeoutIoHandler implements IoHandler {
    /** io_uring.h: IORING_OP_TIMEOUT and IORING_OP_ASYNC_CANCEL. */
    private static final byte IORING_OP_TIMEOUT = 11;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    /** A {@code struct __kernel_timespec}: tv_sec and tv_nsec, two 64-bit fields. */
    private static final int TIMESPEC_SIZE = 16;

    private final IoHandler ring;
    private final Context context = new Context();
    private final Timer timer = new Timer();
    /** Read by the kernel when the timeout is submitted (it copies it), so one suffices. */
    private final CleanableDirectBuffer timespecCleanable = Buffer.allocateDirectBufferWithNativeOrder(TIMESPEC_SIZE);
    private final ByteBuffer timespec = timespecCleanable.buffer();
    private final long timespecAddress = Buffer.memoryAddress(timespec);
    private IoRegistration timerRegistration;
    /** The deadline (in the loop's own nanoTime terms) of the armed timeout, when {@link #armedId} is not 0. */
    private long armedDeadline;
    /** The ring's id of the armed timeout, 0 when none is; superseded ones still pending are ignored when they fire. */
    private long armedId;
    /** Tells the timeouts apart in their completions: the one that counts is the last armed. */
    private short sequence;
    private short armedSequence;

    private SteadyTimeoutIoHandler(IoHandler ring) {
        this.ring = ring;
    }

    /** Wraps the handlers {@code ring} makes (io_uring ones). */
    static IoHandlerFactory wrap(IoHandlerFactory ring) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                return new SteadyTimeoutIoHandler(ring.newHandler(executor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return ring.isChangingThreadSupported();
            }
        };
    }

    @Override
    public void initialize() {
        ring.initialize();
    }

    @Override
    public int run(IoHandlerContext loop) {
        context.loop = loop;
        context.sleepsWithoutDeadline = loop.canBlock() && armFor(loop);
        return ring.run(context);
    }

    /** Makes sure a timeout fires by the loop's next deadline; false if none could be armed (Netty's own then). */
    private boolean armFor(IoHandlerContext loop) {
        long deadline = loop.deadlineNanos();
        if (deadline == -1) {
            return true; // nothing scheduled: a sleep without a deadline is what Netty would do as well
        }
        if (armedId != 0 && armedDeadline <= deadline) {
            return true;
        }
        try {
            if (timerRegistration == null) {
                timerRegistration = ring.register(timer);
            }
        } catch (Exception e) {
            return false;
        }
        long delay = Math.max(0, loop.delayNanos(System.nanoTime()));
        timespec.putLong(0, delay / TimeUnit.SECONDS.toNanos(1));
        timespec.putLong(8, delay % TimeUnit.SECONDS.toNanos(1));
        short id = ++sequence == 0 ? ++sequence : sequence;
        // count 0 (union1): a pure timeout, which other completions do not end.
        long submitted = timerRegistration.submit(new IoUringIoOps(IORING_OP_TIMEOUT, (byte) 0, (short) 0, -1,
                0L, timespecAddress, 1, 0, (long) id, (short) 0, (short) 0, 0, 0L));
        if (submitted == 0) {
            return false; // the registration is gone (the loop shuts down): Netty's own timeout, as before
        }
        armedId = submitted;
        armedSequence = id;
        armedDeadline = deadline;
        return true;
    }

    @Override
    public void prepareToDestroy() {
        ring.prepareToDestroy(); // closes the timer's registration too, which cancels its timeout
    }

    @Override
    public void destroy() {
        ring.destroy();
        timespecCleanable.clean();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return ring.register(handle);
    }

    @Override
    public void wakeup() {
        ring.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return ring.isCompatible(handleType);
    }

    /** The loop's context with no deadline when the armed timeout stands for it. */
    private static final class Context implements IoHandlerContext {
        IoHandlerContext loop;
        boolean sleepsWithoutDeadline;

        @Override
        public boolean canBlock() {
            return loop.canBlock();
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return sleepsWithoutDeadline ? -1 : loop.delayNanos(currentTimeNanos);
        }

        @Override
        public long deadlineNanos() {
            return sleepsWithoutDeadline ? -1 : loop.deadlineNanos();
        }

        @Override
        public void reportActiveIoTime(long activeNanos) {
            loop.reportActiveIoTime(activeNanos);
        }

        @Override
        public boolean shouldReportActiveIoTime() {
            return loop.shouldReportActiveIoTime();
        }
    }

    /** The ring's handle for the timeouts: a completion of the armed one lets the next wait arm another. */
    private final class Timer implements IoUringIoHandle {
        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            IoUringIoEvent completion = (IoUringIoEvent) event;
            if (completion.opcode() == IORING_OP_TIMEOUT && completion.data() == armedSequence && armedId != 0) {
                armedId = 0; // fired (or cancelled): the loop, awake now, runs what is due and arms the next
            }
        }

        @Override
        public void close() {
            IoRegistration registration = timerRegistration;
            if (registration != null && armedId != 0) {
                // The ring drains its operations before it goes: do not make it wait for the timeout.
                registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1,
                        0L, armedId, 0, 0, 0L, (short) 0, (short) 0, 0, 0L));
            }
            if (registration != null) {
                registration.cancel();
            }
        }
    }
}
