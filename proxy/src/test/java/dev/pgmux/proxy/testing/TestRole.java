package dev.pgmux.proxy.testing;

import java.util.Objects;

/**
 * A login role of the test Postgres and its password. The password is empty for a role that
 * logs in without one ({@link TestPostgres#TRUST}).
 */
public record TestRole(String name, String password) {

    public TestRole {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        return "TestRole[" + name + "]";
    }
}
