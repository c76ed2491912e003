package dev.pgmux.config;

import java.util.Objects;
import java.util.Optional;

/**
 * The admin HTTP listener ({@code /health}, {@code /ready}, {@code /metrics}, {@code /pools}).
 *
 * @param host         address it binds to; empty: the client listeners' ({@code listen.host}). Operators
 *                     often bind it elsewhere (a private network for Prometheus) than the client ports
 * @param metricsToken when present, {@code /metrics} answers only requests with
 *                     {@code Authorization: Bearer <token>}
 */
public record AdminConfig(Optional<String> host, Optional<String> metricsToken) {

    public AdminConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(metricsToken, "metricsToken");
    }

    public static AdminConfig defaults() {
        return new AdminConfig(Optional.empty(), Optional.empty());
    }

    /** The address to bind: its own, or the client listeners'. */
    public String effectiveHost(ListenConfig listen) {
        return host.orElse(listen.host());
    }

    public AdminConfig withHost(String host) {
        return new AdminConfig(Optional.of(host), metricsToken);
    }

    public AdminConfig withMetricsToken(String token) {
        return new AdminConfig(host, Optional.of(token));
    }

    /** Never shows the token. */
    @Override
    public String toString() {
        return "AdminConfig[host=" + host.orElse("(listen.host)") + ", metricsToken="
                + (metricsToken.isPresent() ? "(set)" : "(none)") + "]";
    }
}
