package dev.pgmux.config;

import java.util.Objects;
import java.util.Optional;

/**
 * The admin HTTP listener ({@code /health}, {@code /ready}, {@code /metrics}, {@code /pools}, and the tenant API
 * under {@code /api}).
 *
 * @param host         address it binds to; empty: the client listeners' ({@code listen.host}). Operators
 *                     often bind it elsewhere (a private network for Prometheus) than the client ports
 * @param metricsToken when present, {@code /metrics} answers only requests with
 *                     {@code Authorization: Bearer <token>}
 * @param apiJwtSecret when present, the tenant API ({@code /api/tenants/...}) is on, and its requests must carry a
 *                     JWT signed with it (HS256); empty: the API is off
 */
public record AdminConfig(Optional<String> host, Optional<String> metricsToken, Optional<String> apiJwtSecret) {
    /** An HS256 key shorter than the hash (32 bytes) is weaker than the signature it makes (RFC 7518, 3.2). */
    public static final int MIN_API_JWT_SECRET_BYTES = 32;

    public AdminConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(metricsToken, "metricsToken");
        Objects.requireNonNull(apiJwtSecret, "apiJwtSecret");
    }

    public AdminConfig(Optional<String> host, Optional<String> metricsToken) {
        this(host, metricsToken, Optional.empty());
    }

    public static AdminConfig defaults() {
        return new AdminConfig(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The address to bind: its own, or the client listeners'. */
    public String effectiveHost(ListenConfig listen) {
        return host.orElse(listen.host());
    }

    public AdminConfig withHost(String host) {
        return new AdminConfig(Optional.of(host), metricsToken, apiJwtSecret);
    }

    public AdminConfig withMetricsToken(String token) {
        return new AdminConfig(host, Optional.of(token), apiJwtSecret);
    }

    public AdminConfig withApiJwtSecret(String secret) {
        return new AdminConfig(host, metricsToken, Optional.of(secret));
    }

    /** Never shows the token or the secret. */
    @Override
    public String toString() {
        return "AdminConfig[host=" + host.orElse("(listen.host)") + ", metricsToken="
                + (metricsToken.isPresent() ? "(set)" : "(none)") + ", apiJwtSecret="
                + (apiJwtSecret.isPresent() ? "(set)" : "(none)") + "]";
    }
}
