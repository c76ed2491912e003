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
 * @param instanceId      this instance's name among the others in the metadata database; empty: host name,
 *                        process id and a random suffix
 * @param peerAddress     {@code HOST:PORT} where the other instances reach this one's transaction port (for the
 *                        cancel requests they pass on); empty: listen.host (or this host's address when that
 *                        is a wildcard) and the transaction port
 * @param instanceTimeout how long an instance's heartbeat may be missing before the others count it gone
 */
public record ClusterConfig(Optional<String> metadataUrl, Duration refreshInterval, Optional<String> instanceId,
                            Optional<String> peerAddress, Duration instanceTimeout) {
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_INSTANCE_TIMEOUT = Duration.ofSeconds(30);

    public ClusterConfig {
        Objects.requireNonNull(metadataUrl, "metadataUrl");
        Objects.requireNonNull(refreshInterval, "refreshInterval");
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(peerAddress, "peerAddress");
        Objects.requireNonNull(instanceTimeout, "instanceTimeout");
    }

    public ClusterConfig(Optional<String> metadataUrl, Duration refreshInterval) {
        this(metadataUrl, refreshInterval, Optional.empty(), Optional.empty(), DEFAULT_INSTANCE_TIMEOUT);
    }

    public static ClusterConfig none() {
        return new ClusterConfig(Optional.empty(), DEFAULT_REFRESH_INTERVAL);
    }

    public static ClusterConfig metadata(String url) {
        return new ClusterConfig(Optional.of(url), DEFAULT_REFRESH_INTERVAL);
    }

    public ClusterConfig withRefreshInterval(Duration interval) {
        return new ClusterConfig(metadataUrl, interval, instanceId, peerAddress, instanceTimeout);
    }

    public ClusterConfig withInstanceTimeout(Duration timeout) {
        return new ClusterConfig(metadataUrl, refreshInterval, instanceId, peerAddress, timeout);
    }

    public ClusterConfig withInstanceId(String id) {
        return new ClusterConfig(metadataUrl, refreshInterval, Optional.of(id), peerAddress, instanceTimeout);
    }

    /** Whether tenants may come from the metadata database (the file may then have none). */
    public boolean hasMetadata() {
        return metadataUrl.isPresent();
    }

    @Override
    public String toString() {
        return "ClusterConfig[metadataUrl=" + metadataUrl.map(MetadataUrl::redacted).orElse("none")
                + ", refreshInterval=" + refreshInterval + ", instanceId=" + instanceId + ", peerAddress=" + peerAddress
                + ", instanceTimeout=" + instanceTimeout + "]";
    }
}
