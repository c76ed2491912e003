package dev.pgmux.proxy.cluster;

import dev.pgmux.config.MetadataUrl;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** Connections to the metadata database, through pgjdbc, with short timeouts: never used on an event loop. */
public final class MetadataConnections {
    private MetadataConnections() {}

    /**
     * @param applicationName shown in the metadata database's pg_stat_activity
     * @param socketTimeoutSeconds how long one statement may wait for an answer before the connection counts as lost
     */
    public static Connection open(MetadataUrl url, String applicationName, int socketTimeoutSeconds) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", url.user());
        props.setProperty("password", url.password());
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        props.setProperty("tcpKeepAlive", "true");
        url.sslmode().ifPresent(mode -> props.setProperty("sslmode", mode));
        String host = url.host().contains(":") ? "[" + url.host() + "]" : url.host();
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + url.port() + "/"
                + URLEncoder.encode(url.database(), StandardCharsets.UTF_8), props);
    }
}
