package dev.pgmux.proxy.client;

import dev.pgmux.protocol.SqlState;

/** Why a login failed, in the few fixed words the login meters use (never a client's own text). */
final class LoginFailure {
    private LoginFailure() {}

    /** From the SQLSTATE of the FATAL error that ended the login, or null when the client just left. */
    static String reason(String sqlState) {
        if (sqlState == null) {
            return "client_left";
        }
        return switch (sqlState) {
            case SqlState.INVALID_PASSWORD -> "auth_failed";
            case SqlState.INVALID_AUTHORIZATION_SPECIFICATION -> "not_authorized";
            case SqlState.TOO_MANY_CONNECTIONS -> "too_many_clients";
            case SqlState.INVALID_CATALOG_NAME -> "unknown_database";
            case SqlState.PROTOCOL_VIOLATION -> "protocol_violation";
            case SqlState.FEATURE_NOT_SUPPORTED -> "not_supported";
            default -> sqlState.startsWith("08") || sqlState.startsWith("57") || sqlState.startsWith("53")
                    ? "server_unavailable" : "server_refused";
        };
    }
}
