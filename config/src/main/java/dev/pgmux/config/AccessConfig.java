package dev.pgmux.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Who may reach a tenant at all, checked once the client has named its tenant.
 *
 * @param allowList  client networks in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}; a plain address
 *                   is one host); empty: every address
 * @param requireTls whether clients of this tenant must use TLS; empty: as the listener's {@code tls.mode}
 */
public record AccessConfig(List<String> allowList, Optional<Boolean> requireTls) {

    public AccessConfig {
        allowList = List.copyOf(allowList);
        Objects.requireNonNull(requireTls, "requireTls");
    }

    public static AccessConfig open() {
        return new AccessConfig(List.of(), Optional.empty());
    }

    public AccessConfig withAllowList(List<String> allowList) {
        return new AccessConfig(allowList, requireTls);
    }

    public AccessConfig withRequireTls(boolean requireTls) {
        return new AccessConfig(allowList, Optional.of(requireTls));
    }
}
