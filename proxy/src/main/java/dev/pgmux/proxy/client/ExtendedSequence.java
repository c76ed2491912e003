package dev.pgmux.proxy.client;

/**
 * Follows a client's extended-protocol sequences, from the messages it sends, the same way in both pooling
 * modes. A sequence opens with Parse, Bind, Describe, Execute or Close and ends with Sync (or a simple
 * Query, which ends the implicit transaction those messages run in). Flush and the COPY messages neither
 * open nor end one. Syncs, Queries and FunctionCalls are each answered by one ReadyForQuery.
 */
public final class ExtendedSequence {
    private boolean open;
    private boolean executed;
    private int awaitingReady;

    /** A message the client sent on, by its tag. */
    public void sent(byte tag) {
        switch (tag) {
            case 'S', 'Q' -> {
                open = false;
                executed = false;
                awaitingReady++;
            }
            case 'F' -> awaitingReady++;
            case 'E' -> {
                open = true;
                executed = true;
            }
            case 'P', 'B', 'D', 'C' -> open = true;
            default -> { } // Flush, CopyData, CopyDone, CopyFail: no part of a sequence
        }
    }

    /** The server answered one Sync, Query or FunctionCall. */
    public void readyForQuery() {
        if (awaitingReady > 0) {
            awaitingReady--;
        }
    }

    /** Extended-protocol messages were sent since the last Sync: the server is mid-sequence. */
    public boolean open() {
        return open;
    }

    /** An Execute was sent in the open sequence: the transaction status may change before its Sync. */
    public boolean executed() {
        return executed;
    }

    /** Syncs, Queries and FunctionCalls sent whose ReadyForQuery has not come back yet. */
    public int awaitingReady() {
        return awaitingReady;
    }

    /** Nothing open and nothing unanswered: the server is between units of work. */
    public boolean quiet() {
        return !open && awaitingReady == 0;
    }
}
