package dev.pgmux.proxy.pool;

/** A client could not get a server: the checkout wait timed out, or the pool was closed. */
public final class CheckoutException extends Exception {
    public CheckoutException(String message) {
        super(message, null, false, false);
    }
}
