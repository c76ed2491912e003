package dev.pgmux.config;

import java.util.Objects;

/**
 * A user of a tenant. The password authenticates clients (SCRAM-SHA-256) and logs pgmux in
 * upstream as this user.
 */
public record UserConfig(String name, String password) {

    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
    }

    /** Never shows the password: configurations get logged. */
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=***]";
    }
}
