package dev.pgmux.proxy.client;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.proxy.pool.CheckoutException;

/** Errors pgmux itself reports to clients, worded as users already know them from other poolers. */
public final class ClientErrors {
    private ClientErrors() {}

    /** A logged-in client ended by a shutdown, in Postgres' own words for a backend told to stop. */
    public static ErrorResponse adminShutdown() {
        return ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command");
    }

    /** A client that tries to log in while pgmux shuts down (Postgres says "the database system is shutting down"). */
    public static ErrorResponse shuttingDown() {
        return ErrorResponse.fatal(SqlState.CANNOT_CONNECT_NOW, "the pooler is shutting down");
    }

    public static ErrorResponse checkoutTimeout(CheckoutException e, String mode) {
        return new ErrorResponse(Notice.of("FATAL", SqlState.TOO_MANY_CONNECTIONS, e.getMessage() + " in " + mode + " mode")
                .with(Notice.HINT, "All pool_size servers stayed busy for checkout_timeout. Look for slow queries or "
                        + "idle sessions holding servers, or raise pool_size or checkout_timeout."));
    }
}
