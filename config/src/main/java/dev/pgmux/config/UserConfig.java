package dev.pgmux.config;

import java.util.Objects;
import java.util.Optional;

/**
 * A user of a tenant. The password authenticates clients and logs pgmux in upstream as this user. It may
 * be the password itself, or what Postgres stores for it (a SCRAM-SHA-256 verifier or an MD5 hash, see
 * {@link Passwords}), in which case pgmux never learns the password.
 *
 * @param poolMode the pooling of this user's clients whichever port they use; empty: the port's
 */
public record UserConfig(String name, String password, Optional<PoolMode> poolMode) {

    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(poolMode, "poolMode");
    }

    public UserConfig(String name, String password) {
        this(name, password, Optional.empty());
    }

    public UserConfig withPoolMode(PoolMode poolMode) {
        return new UserConfig(name, password, Optional.of(poolMode));
    }

    /** What kind of secret {@link #password()} is. */
    public Passwords.Kind passwordKind() {
        return Passwords.kind(password);
    }

    /** Never shows the password: configurations get logged. */
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=***" + poolMode.map(m -> ", pool_mode=" + m.configName()).orElse("") + "]";
    }
}
