package dev.pgmux.proxy.client;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.proxy.pool.CheckoutException;

/** Errors pgmux itself reports to clients, worded as users already know them from other poolers. */
public final class ClientErrors {
    private ClientErrors() {}

    public static ErrorResponse checkoutTimeout(CheckoutException e, String mode) {
        return new ErrorResponse(Notice.of("FATAL", SqlState.TOO_MANY_CONNECTIONS, e.getMessage() + " in " + mode + " mode")
                .with(Notice.HINT, "All pool_size servers stayed busy for checkout_timeout. Look for slow queries or "
                        + "idle sessions holding servers, or raise pool_size or checkout_timeout."));
    }
}
