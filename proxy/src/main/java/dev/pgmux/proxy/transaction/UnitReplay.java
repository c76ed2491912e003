package dev.pgmux.proxy.transaction;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * A client's messages kept from the first Bind or Describe of an unnamed statement served from a shared
 * statement, to the end of its unit (Sync or simple Query): if the server answers that message with
 * "cached plan must not change result type" (DDL since the shared statement was prepared), nothing of the
 * unit has run, so pgmux sends these messages again with the statement parsed afresh. While kept, the
 * client's next unit waits: it must not reach the server before the unit it follows is sent again.
 */
final class UnitReplay {
    private final List<ByteBuf> messages = new ArrayList<>(4);
    private boolean unitEnded;

    UnitReplay(ByteBuf first) {
        messages.add(first);
    }

    /** Keeps one more message of the unit (taken). */
    void add(ByteBuf message) {
        messages.add(message);
        byte tag = message.getByte(message.readerIndex());
        if (tag == 'S' || tag == 'Q') {
            unitEnded = true;
        }
    }

    /** The unit's Sync (or Query) was sent: what follows belongs to the next unit. */
    boolean unitEnded() {
        return unitEnded;
    }

    /** The messages, in order; ownership passes to the caller. */
    List<ByteBuf> take() {
        List<ByteBuf> taken = List.copyOf(messages);
        messages.clear();
        return taken;
    }

    void release() {
        messages.forEach(ReferenceCountUtil::release);
        messages.clear();
    }
}
