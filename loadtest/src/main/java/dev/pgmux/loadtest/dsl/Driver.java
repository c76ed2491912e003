package dev.pgmux.loadtest.dsl;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How virtual users reach Postgres. Both use pgjdbc; connection properties (such as {@code prepareThreshold})
 * are pgjdbc's own and are added to those of the target URL.
 */
public sealed interface Driver {

    Map<String, String> properties();

    String describe();

    /**
     * pgjdbc on its own: each {@link Step.Connect} is a new physical connection and login, each
     * {@link Step.Disconnect} closes it. With connect-per-request scenarios this is the serverless pattern.
     */
    record Jdbc(Map<String, String> properties) implements Driver {
        public Jdbc {
            properties = Map.copyOf(properties);
        }

        public Jdbc property(String key, String value) {
            Map<String, String> p = new LinkedHashMap<>(properties);
            p.put(key, value);
            return new Jdbc(p);
        }

        /** pgjdbc's {@code prepareThreshold}: executions before a named server-side statement is used (0 = never). */
        public Jdbc prepareThreshold(int n) {
            return property("prepareThreshold", Integer.toString(n));
        }

        @Override
        public String describe() {
            return "pgjdbc" + (properties.isEmpty() ? "" : " " + properties);
        }
    }

    /**
     * The app-server pattern: {@code instances} application instances, each with its own HikariCP pool of
     * {@code poolSize} connections (filled before the run starts). User {@code n} belongs to instance
     * {@code n % instances}; {@link Step.Connect} borrows from its pool (waiting at most
     * {@code connectionTimeout}) and {@link Step.Disconnect} gives the connection back.
     */
    record Hikari(int instances, int poolSize, Duration connectionTimeout, Map<String, String> properties)
            implements Driver {
        public Hikari {
            if (instances < 1 || poolSize < 1) {
                throw new IllegalArgumentException("hikari needs instances >= 1 and poolSize >= 1, got "
                        + instances + " and " + poolSize);
            }
            if (connectionTimeout.toMillis() < 250) {
                throw new IllegalArgumentException("HikariCP needs a connectionTimeout of at least 250ms, got "
                        + Durations.format(connectionTimeout));
            }
            properties = Map.copyOf(properties);
        }

        public Hikari property(String key, String value) {
            Map<String, String> p = new LinkedHashMap<>(properties);
            p.put(key, value);
            return new Hikari(instances, poolSize, connectionTimeout, p);
        }

        public Hikari prepareThreshold(int n) {
            return property("prepareThreshold", Integer.toString(n));
        }

        public Hikari connectionTimeout(Duration timeout) {
            return new Hikari(instances, poolSize, timeout, properties);
        }

        @Override
        public String describe() {
            return "HikariCP, " + instances + " app instance" + (instances == 1 ? "" : "s") + " x pool of " + poolSize
                    + (properties.isEmpty() ? "" : " " + properties);
        }
    }
}
