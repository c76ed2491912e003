package dev.pgmux.proxy.prepared;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One statement definition (query text and parameter types) under the server-side name pgmux gave it.
 * Every client that prepares the same definition shares it, whatever name the client uses; the
 * reference count tracks how many client registrations hold it.
 */
public final class StatementDef {
    private final String query;
    private final int[] parameterTypes;
    private final String serverName;
    private final boolean sqlPrepared;
    private final boolean changesSession;
    final AtomicInteger references = new AtomicInteger();

    StatementDef(String query, int[] parameterTypes, boolean sqlPrepared, String serverName, boolean changesSession) {
        this.query = query;
        this.parameterTypes = parameterTypes;
        this.sqlPrepared = sqlPrepared;
        this.serverName = serverName;
        this.changesSession = changesSession;
    }

    /**
     * Made by SQL {@code PREPARE name rest}: {@link #query()} is then the {@code rest} (optional parameter
     * types, AS, the statement), to be re-issued as {@code PREPARE serverName rest}.
     */
    public boolean sqlPrepared() {
        return sqlPrepared;
    }

    public String query() {
        return query;
    }

    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    /** The name this statement has on every server that holds it. */
    public String serverName() {
        return serverName;
    }

    /** Whether executing it may change session settings (a SET or RESET), which pgmux must then read back. */
    public boolean changesSession() {
        return changesSession;
    }

    @Override
    public String toString() {
        return serverName + "[" + Arrays.toString(parameterTypes) + " " + query + "]";
    }
}
