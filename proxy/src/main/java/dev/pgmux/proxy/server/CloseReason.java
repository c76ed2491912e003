package dev.pgmux.proxy.server;

/** Why a server connection was closed: recorded once, on the connection, by whoever closed it first. */
public enum CloseReason {
    /** The connect or the upstream login failed. */
    LOGIN_FAILED("login failed"),
    /** Postgres closed the connection, or it broke (reset, EOF, keepalive expiry). */
    SERVER_GONE("server closed the connection"),
    /** Idle for longer than idle_timeout, beyond min_idle. */
    IDLE_TIMEOUT("idle timeout"),
    /** Older than max_lifetime. */
    MAX_LIFETIME("max lifetime"),
    /** A client left it mid-transaction or mid-protocol: its state belongs to nobody. */
    CLIENT_LEFT_DIRTY("client left it mid-transaction"),
    /** A client disconnected while its statement ran: cancelled upstream, then closed. */
    CLIENT_GONE("client disconnected mid-statement"),
    /** server_reset_query or pgmux's own settings query failed. */
    RESET_FAILED("reset failed"),
    /** A client prepared or deallocated one of pgmux's statement names by SQL. */
    STATEMENTS_ALTERED("statement names altered by a client"),
    /** The server sent something pgmux cannot follow. */
    PROTOCOL_ERROR("protocol error"),
    /** A reload changed its pool's upstream address or credentials: closed once released. */
    UPSTREAM_CHANGED("upstream or credentials changed"),
    /** A reload made its pool smaller: closed while idle or once released. */
    POOL_SHRUNK("pool size reduced"),
    /** Its pool was closed or removed. */
    POOL_CLOSED("pool closed"),
    /** An admin console command (PAUSE, RECONNECT, KILL) closed it. */
    ADMIN_COMMAND("closed by an admin command");

    private final String text;

    CloseReason(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
