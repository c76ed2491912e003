package dev.pgmux.config;

import java.util.List;
import java.util.Objects;

/**
 * The PROXY protocol (v1 and v2, as HAProxy and the cloud load balancers send it) on the two client listeners:
 * a load balancer in front of pgmux tells it, ahead of the client's first byte, whose connection it relays, so
 * that allow lists, logs and the admin console see the client's address instead of the balancer's.
 *
 * @param mode     whether a header is ignored, accepted or required
 * @param networks the peers (CIDR, as in allow_list) that may send a header; empty: any peer. A header from
 *                 another peer is refused, since believing it would let that peer claim any address.
 */
public record ProxyProtocolConfig(Mode mode, List<String> networks) {

    public enum Mode {
        /** No header is read: a connection that starts with one fails its login (the default). */
        OFF("off"),
        /** A connection may start with a header; one that does not is a client speaking for itself. */
        OPTIONAL("optional"),
        /** Every connection must start with a header: one that does not is refused with an error. */
        REQUIRED("required");

        private final String configName;

        Mode(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    public ProxyProtocolConfig {
        Objects.requireNonNull(mode, "mode");
        networks = List.copyOf(networks);
    }

    public static ProxyProtocolConfig off() {
        return new ProxyProtocolConfig(Mode.OFF, List.of());
    }

    public static ProxyProtocolConfig of(Mode mode) {
        return new ProxyProtocolConfig(mode, List.of());
    }

    public ProxyProtocolConfig withNetworks(List<String> networks) {
        return new ProxyProtocolConfig(mode, networks);
    }

    public boolean enabled() {
        return mode != Mode.OFF;
    }
}
