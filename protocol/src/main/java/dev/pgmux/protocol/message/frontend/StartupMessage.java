package dev.pgmux.protocol.message.frontend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** StartupMessage: the protocol version and the session parameters (user, database, options, ...). */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements FrontendMessage {
    /** Protocol 3.0, the only version pgmux speaks (3.2 clients are negotiated down). */
    public static final int PROTOCOL_3_0 = 196608;

    public StartupMessage {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xFFFF;
    }

    public String user() {
        return parameters.get("user");
    }

    /** The database, which defaults to the user name as in Postgres; null only when no user was sent. */
    public String database() {
        String database = parameters.get("database");
        return database == null || database.isEmpty() ? user() : database;
    }
}
