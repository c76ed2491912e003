package dev.pgmux.proxy.pool;

/** A client could not get a server: the checkout wait timed out, or the pool was closed. */
public final class CheckoutException extends Exception {
    private final boolean timedOut;

    private CheckoutException(String message, boolean timedOut) {
        super(message, null, false, false);
        this.timedOut = timedOut;
    }

    /** Worded as Supavisor words it, so the messages users search for lead here too. */
    static CheckoutException timedOut(long timeoutMillis) {
        return new CheckoutException("unable to check out connection from the pool after " + timeoutMillis + "ms", true);
    }

    static CheckoutException closed(PoolKey key) {
        return new CheckoutException("pool " + key + " is closed", false);
    }

    public boolean timedOut() {
        return timedOut;
    }
}
