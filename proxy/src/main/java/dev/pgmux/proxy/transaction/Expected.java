package dev.pgmux.proxy.transaction;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import dev.pgmux.protocol.message.backend.ErrorResponse;

/**
 * One entry of the queue of responses a client is owed, in the order it is owed them: either what the
 * server will answer to one message ({@link Reply}), or a response pgmux makes itself ({@link Synthetic}),
 * emitted as soon as every response before it has gone out.
 */
sealed interface Expected {

    /** What the server answers to one message, and whether the client sees it. */
    record Reply(Kind kind, Delivery delivery, Outcome outcome) implements Expected {
        private static final Reply[][] PLAIN = new Reply[Kind.values().length][Delivery.values().length];

        static {
            for (Kind kind : Kind.values()) {
                for (Delivery delivery : Delivery.values()) {
                    PLAIN[kind.ordinal()][delivery.ordinal()] = new Reply(kind, delivery, Outcome.NONE);
                }
            }
        }

        /** A reply with nothing to do as it arrives: shared, since it carries no state of its own. */
        static Reply of(Kind kind, Delivery delivery, Outcome outcome) {
            return outcome == Outcome.NONE ? PLAIN[kind.ordinal()][delivery.ordinal()] : new Reply(kind, delivery, outcome);
        }
    }

    /** A response pgmux answers itself (ParseComplete for a statement the server has, CloseComplete, ...). */
    record Synthetic(ByteBuf frame, Outcome outcome) implements Expected {}

    /** Who gets the server's responses. */
    enum Delivery {
        /** The client, as the answer to a message it sent. */
        CLIENT,
        /** Nobody: the message was pgmux's own (an injected Parse, an eviction Close, a settings query). */
        SWALLOW
    }

    /** The kinds of message a reply answers, and the response that completes each. */
    enum Kind {
        PARSE, BIND, CLOSE, DESCRIBE_STATEMENT, DESCRIBE_PORTAL, EXECUTE, SYNC, QUERY, FUNCTION_CALL;

        boolean completedBy(byte tag) {
            return switch (this) {
                case PARSE -> tag == '1';
                case BIND -> tag == '2';
                case CLOSE -> tag == '3';
                case DESCRIBE_STATEMENT, DESCRIBE_PORTAL -> tag == 'T' || tag == 'n';
                case EXECUTE -> tag == 'C' || tag == 'I' || tag == 's';
                case SYNC, QUERY, FUNCTION_CALL -> tag == 'Z';
            };
        }

        /** Extended-protocol messages: after an error the server skips them until Sync. */
        boolean skippedAfterError() {
            return this != SYNC && this != QUERY && this != FUNCTION_CALL;
        }
    }

    /** What pgmux does as a reply arrives, completes, fails or is skipped. */
    interface Outcome {
        Outcome NONE = new Outcome() {};

        /** Sees every frame of the reply before it is delivered or swallowed (the caller still owns it). */
        default void observe(ByteBuf frame) {}

        /**
         * May replace a frame on its way to the client, or drop it (null); takes ownership of {@code frame}.
         */
        default ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
            return frame;
        }

        default void succeeded() {}

        /** The server answered with this error, or ({@code error == null}) skipped the message after an earlier error. */
        default void failed(ErrorResponse error) {}
    }
}
