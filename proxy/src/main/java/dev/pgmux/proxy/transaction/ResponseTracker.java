package dev.pgmux.proxy.transaction;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.transaction.Expected.Delivery;
import dev.pgmux.proxy.transaction.Expected.Kind;
import dev.pgmux.proxy.transaction.Expected.Reply;
import dev.pgmux.proxy.transaction.Expected.Synthetic;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;

/**
 * Keeps the responses a client sees in exactly the order a direct server would give them, while pgmux
 * injects messages of its own (whose responses are swallowed) and answers some itself (synthetic).
 *
 * <p>After an ErrorResponse to an extended-protocol message the server discards every message until
 * Sync; the entries queued for those messages are unwound here the same way (synthetic responses are
 * dropped, pending registrations undone), and entries added before the client's Sync are failed at once.
 */
final class ResponseTracker {
    /** Starts with room for nothing: an idle client that never sent anything keeps no 16-slot array. */
    private final ArrayDeque<Expected> queue = new ArrayDeque<>(0);
    private final MessageWriter client;
    /** The server reported an error and is discarding messages until the next Sync. */
    private boolean skipping;
    private int pendingUnits;
    /** Synthetic entries in the queue: while there are any, completions must drain them in order. */
    private int synthetics;

    ResponseTracker(MessageWriter client) {
        this.client = client;
    }

    /** Nothing is owed and the server is not discarding: the server could be released. */
    boolean idle() {
        return queue.isEmpty() && !skipping;
    }

    void expect(Kind kind, Delivery delivery, Expected.Outcome outcome) {
        if (skipping) {
            if (kind == Kind.SYNC) {
                skipping = false;
            } else {
                outcome.failed(null); // the server will discard this message unseen
                return;
            }
        }
        queue.addLast(Reply.of(kind, delivery, outcome));
        if (!kind.skippedAfterError()) {
            pendingUnits++;
        }
    }

    void expect(Kind kind, Delivery delivery) {
        expect(kind, delivery, Expected.Outcome.NONE);
    }

    /** A response pgmux makes itself; it goes out once every response before it has. Takes ownership. */
    void synthesize(ByteBuf frame, Expected.Outcome outcome) {
        if (skipping) {
            frame.release();
            outcome.failed(null);
            return;
        }
        queue.addLast(new Synthetic(frame, outcome));
        synthetics++;
        drain();
    }

    /**
     * The common case, without a frame of its own: the message at {@code index} of a server batch answers a
     * client's message and goes to it unchanged, with nothing for pgmux to observe or emit after it. Then it
     * is passed on (gathered with its neighbours) and true returned; otherwise {@link #onServerFrame} must
     * handle it.
     */
    boolean relay(ByteBuf batch, int index, int length) {
        byte tag = batch.getByte(index);
        if (synthetics > 0 || tag == ErrorResponse.TAG
                || !(queue.peekFirst() instanceof Reply reply)
                || reply.delivery() != Delivery.CLIENT || reply.outcome() != Expected.Outcome.NONE) {
            return false;
        }
        client.relay(batch, index, length);
        if (tag != 'N' && tag != 'S' && tag != 'A' && reply.kind().completedBy(tag)) {
            poll();
        }
        return true;
    }

    /** Handles one frame from the server (ownership passes here). */
    void onServerFrame(ByteBuf frame) {
        byte tag = Frames.tag(frame);
        Expected head = queue.peekFirst();
        if (tag == 'N' || tag == 'S' || tag == 'A') {
            // Asynchronous: notices and parameter changes of pgmux's own queries stay with pgmux.
            if (tag != 'A' && head instanceof Reply reply && reply.delivery() == Delivery.SWALLOW) {
                frame.release();
            } else {
                client.write(frame);
            }
            return;
        }
        if (!(head instanceof Reply reply)) {
            // Nothing owed (for example a FATAL error before the server closes): the client should see it.
            client.write(frame);
            return;
        }
        reply.outcome().observe(frame);
        if (tag == ErrorResponse.TAG && reply.kind().skippedAfterError()) {
            poll();
            ErrorResponse error = (ErrorResponse) BackendCodec.decode(frame);
            // Even an injected message's error goes to the client: it answers the message that needed it.
            deliver(reply.outcome().transform(frame, client.alloc()));
            // Undo what came after the failed message first, then the message itself: an undo log.
            unwindUntilSync();
            reply.outcome().failed(error);
            return;
        }
        if (reply.delivery() == Delivery.CLIENT) {
            deliver(reply.outcome().transform(frame, client.alloc()));
        } else {
            frame.release();
        }
        if (reply.kind().completedBy(tag)) {
            poll();
            reply.outcome().succeeded();
            drain();
        }
    }

    /** Passes a frame on to the client, unless an outcome dropped it (null). */
    private void deliver(ByteBuf frame) {
        if (frame != null) {
            client.write(frame);
        }
    }

    /** Nothing is owed by the server (it may still be skipping to a Sync after an error). */
    boolean nothingOwed() {
        return queue.isEmpty();
    }

    /** The server reported an error and discards every message until the next Sync: a Query now goes unseen. */
    boolean skipping() {
        return skipping;
    }

    private void unwindUntilSync() {
        ArrayDeque<Expected> skipped = new ArrayDeque<>();
        while (!queue.isEmpty() && !(queue.peekFirst() instanceof Reply reply && reply.kind() == Kind.SYNC)) {
            skipped.push(poll());
        }
        skipping = queue.isEmpty();
        // Undo in reverse order, like an undo log: "Close s1; Parse s1" restores the first s1.
        while (!skipped.isEmpty()) {
            fail(skipped.pop());
        }
    }

    /**
     * The ReadyForQuery owed next (of the Sync or Query that ends the unit at the head of the queue) goes to
     * nobody: pgmux sends the unit again, and the client gets the ReadyForQuery of that.
     */
    void swallowNextReady() {
        Expected head = queue.peekFirst();
        if (head instanceof Reply reply && (reply.kind() == Kind.SYNC || reply.kind() == Kind.QUERY)) {
            queue.pollFirst();
            queue.addFirst(Reply.of(reply.kind(), Delivery.SWALLOW, reply.outcome()));
        }
    }

    /** Units (up to a Sync or a simple Query) sent but not yet answered by their ReadyForQuery. */
    int pendingUnits() {
        return pendingUnits;
    }

    private Expected poll() {
        Expected entry = queue.pollFirst();
        if (entry instanceof Reply reply && !reply.kind().skippedAfterError()) {
            pendingUnits--;
        } else if (entry instanceof Synthetic) {
            synthetics--;
        }
        return entry;
    }

    private static void fail(Expected entry) {
        switch (entry) {
            case Reply reply -> reply.outcome().failed(null);
            case Synthetic synthetic -> {
                synthetic.frame().release();
                synthetic.outcome().failed(null);
            }
        }
    }

    /** Emits the synthetic responses now at the head of the queue. */
    private void drain() {
        while (queue.peekFirst() instanceof Synthetic synthetic) {
            poll();
            client.write(synthetic.frame());
            synthetic.outcome().succeeded();
        }
    }

    /** The server is gone: everything owed is failed and released. */
    void abandon() {
        while (!queue.isEmpty()) {
            fail(poll());
        }
        skipping = false;
    }
}
