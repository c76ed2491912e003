package dev.pgmux.proxy.metrics;

import io.micrometer.core.instrument.Counter;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What the clients of one pool in one pooling mode did: the meters their event loops record into. Every
 * meter here is lock-free and records without allocating (striped adders: {@link LatencyHistogram}s and
 * Micrometer's Prometheus counters); the error counters per SQLSTATE class are made once per class.
 */
public final class PoolTraffic {
    /** Counts nothing: a client's traffic before it joins a pool. */
    public static final PoolTraffic NONE = new PoolTraffic();

    private final boolean counting;
    final LatencyHistogram checkoutWait;
    final LatencyHistogram transactions;
    final LatencyHistogram queries;
    final Counter received;
    final Counter sent;
    final Counter preparedHits;
    final Counter preparedMisses;
    final Counter prepares;
    final Counter evictions;
    final Counter replays;
    final Counter binds;
    private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();
    private final Function<String, Counter> errorCounter;

    private PoolTraffic() {
        counting = false;
        checkoutWait = transactions = queries = null;
        received = sent = preparedHits = preparedMisses = prepares = evictions = replays = binds = null;
        errorCounter = null;
    }

    PoolTraffic(LatencyHistogram checkoutWait, LatencyHistogram transactions, LatencyHistogram queries, Counter received, Counter sent,
                Counter preparedHits, Counter preparedMisses, Counter prepares, Counter evictions, Counter replays,
                Counter binds, Function<String, Counter> errorCounter) {
        this.counting = true;
        this.checkoutWait = checkoutWait;
        this.transactions = transactions;
        this.queries = queries;
        this.received = received;
        this.sent = sent;
        this.preparedHits = preparedHits;
        this.preparedMisses = preparedMisses;
        this.prepares = prepares;
        this.evictions = evictions;
        this.replays = replays;
        this.binds = binds;
        this.errorCounter = errorCounter;
    }

    /** A server was attached to a client that waited {@code waitNanos} for it (0: one was idle). */
    public void serverAssigned(long waitNanos) {
        if (counting) {
            checkoutWait.record(waitNanos);
        }
    }

    /** A request ended with the server's ReadyForQuery. */
    public void queryEnded(long nanos) {
        if (counting) {
            queries.record(nanos);
        }
    }

    /** A transaction (or a statement outside one) ended with ReadyForQuery('I'). */
    public void transactionEnded(long nanos) {
        if (counting) {
            transactions.record(nanos);
        }
    }

    public void received(long bytes) {
        if (counting) {
            received.increment(bytes);
        }
    }

    public void sent(long bytes) {
        if (counting) {
            sent.increment(bytes);
        }
    }

    /** An error went to a client; {@code sqlState} may be null when the server sent none. */
    public void error(String sqlState) {
        if (counting) {
            String errorClass = sqlState == null || sqlState.length() < 2 ? "XX" : sqlState.substring(0, 2);
            errors.computeIfAbsent(errorClass, errorCounter).increment();
        }
    }

    /** A client's Parse of a named statement was answered without parsing it on the server again. */
    public void preparedHit() {
        if (counting) {
            preparedHits.increment();
        }
    }

    /** A client's Parse of a named statement prepared it on its server. */
    public void preparedMiss() {
        if (counting) {
            preparedMisses.increment();
        }
    }

    /** A statement a client prepared earlier was prepared again on the server it now uses. */
    public void reprepared() {
        if (counting) {
            prepares.increment();
        }
    }

    /** A server's least recently used statement was closed to make room. */
    public void evicted() {
        if (counting) {
            evictions.increment();
        }
    }

    /**
     * A unit was sent again: DDL had changed the result type of the shared statement serving a client's
     * unnamed one, and the server's 0A000 was kept from the client.
     */
    public void replayed() {
        if (counting) {
            replays.increment();
        }
    }

    public void bound() {
        if (counting) {
            binds.increment();
        }
    }
}
