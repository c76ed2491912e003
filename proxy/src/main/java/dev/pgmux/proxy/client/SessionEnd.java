package dev.pgmux.proxy.client;

/**
 * Why a client's connection ended, as the disconnect log line gives it.
 *
 * @param kind     who ended it
 * @param sqlState the FATAL error pgmux sent last, or null when it sent none
 * @param message  that error's message (pgmux's own words or the server's, never a secret), or null
 */
public record SessionEnd(Kind kind, String sqlState, String message) {

    public enum Kind {
        /** The client left (or its connection broke) while logged in. */
        CLIENT_CLOSED,
        /** Its server's connection was lost: the server's own FATAL error or pgmux's 08006 went to the client. */
        SERVER_LOST,
        /** pgmux ended the session with a FATAL error (KILL_CLIENT, a protocol violation, ...). */
        FATAL,
        /** The client never got logged in: refused, timed out, or gone before the end of its login. */
        LOGIN_FAILED
    }

    static SessionEnd of(boolean welcomed, boolean serverLost, String sqlState, String message) {
        Kind kind = !welcomed ? Kind.LOGIN_FAILED
                : serverLost ? Kind.SERVER_LOST
                : sqlState != null ? Kind.FATAL
                : Kind.CLIENT_CLOSED;
        return new SessionEnd(kind, sqlState, message);
    }

    /** For a failed login, its reason in the words the login meters use ({@code auth_failed}, ...); else null. */
    public String loginFailure() {
        return kind == Kind.LOGIN_FAILED ? LoginFailure.reason(sqlState) : null;
    }

    /** In words: {@code client closed}, {@code FATAL 57P01 admin forced disconnect}, {@code login failed: auth_failed (...)}. */
    public String text() {
        String fatal = sqlState == null ? null : "FATAL " + sqlState + (message == null ? "" : " " + message);
        return switch (kind) {
            case CLIENT_CLOSED -> "client closed";
            case SERVER_LOST -> fatal == null ? "server lost" : "server lost: " + fatal;
            case FATAL -> fatal;
            case LOGIN_FAILED -> "login failed: " + loginFailure() + (fatal == null ? "" : " (" + fatal + ")");
        };
    }
}
