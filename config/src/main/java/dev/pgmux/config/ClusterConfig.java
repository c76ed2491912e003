package dev.pgmux.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * pgmux as one of several instances: tenants kept in a metadata Postgres database as well as (or instead of)
 * the configuration file.
 *
 * @param metadataUrl     {@code postgresql://USER:PASSWORD@HOST:PORT/DATABASE} of the metadata database; empty:
 *                        tenants come from the file alone
 * @param refreshInterval how often the tenants are read again whatever the notifications said: the safety net
 *                        under LISTEN/NOTIFY (a notification is lost while the connection is down)
 */
public record ClusterConfig(Optional<String> metadataUrl, Duration refreshInterval) {
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(30);

    public ClusterConfig {
        Objects.requireNonNull(metadataUrl, "metadataUrl");
        Objects.requireNonNull(refreshInterval, "refreshInterval");
    }

    public static ClusterConfig none() {
        return new ClusterConfig(Optional.empty(), DEFAULT_REFRESH_INTERVAL);
    }

    public static ClusterConfig metadata(String url) {
        return new ClusterConfig(Optional.of(url), DEFAULT_REFRESH_INTERVAL);
    }

    public ClusterConfig withRefreshInterval(Duration interval) {
        return new ClusterConfig(metadataUrl, interval);
    }

    /** Whether tenants may come from the metadata database (the file may then have none). */
    public boolean hasMetadata() {
        return metadataUrl.isPresent();
    }

    @Override
    public String toString() {
        return "ClusterConfig[metadataUrl=" + metadataUrl.map(MetadataUrl::redacted).orElse("none")
                + ", refreshInterval=" + refreshInterval + "]";
    }
}
