package dev.pgmux.loadtest.engine;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgmux.loadtest.dsl.Driver;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Where a virtual user's {@code connect} step gets its connection, for one {@link Driver}. */
sealed interface ConnectionSource extends AutoCloseable {

    Connection open(long userId) throws SQLException;

    /** Gives back what {@link #open} returned: closes it, or returns it to its pool. */
    void release(Connection connection);

    /** Before the clock starts: fills pools, so the first requests do not pay for it. */
    default void prewarm() throws SQLException {
    }

    @Override
    void close();

    static ConnectionSource create(Driver driver, Target target) {
        return switch (driver) {
            case Driver.Jdbc j -> new Direct(target, target.connectionProperties(j.properties()));
            case Driver.Hikari h -> new Pooled(target, h);
        };
    }

    /** A new pgjdbc connection (and login) per connect. */
    final class Direct implements ConnectionSource {
        private final org.postgresql.Driver driver = new org.postgresql.Driver();
        private final String url;
        private final Properties properties;
        private final Set<Connection> open = ConcurrentHashMap.newKeySet();

        Direct(Target target, Properties properties) {
            this.url = target.jdbcUrl();
            this.properties = properties;
        }

        @Override
        public Connection open(long userId) throws SQLException {
            // The driver itself rather than DriverManager, which scans every registered driver under a lock.
            Connection c = driver.connect(url, properties);
            if (c == null) {
                throw new SQLException("pgjdbc does not accept the URL " + url);
            }
            open.add(c);
            return c;
        }

        @Override
        public void release(Connection connection) {
            open.remove(connection);
            closeQuietly(connection);
        }

        /** Closes what users left open (they were stopped at the deadline). */
        @Override
        public void close() {
            for (Connection c : open) {
                closeQuietly(c);
            }
            open.clear();
        }
    }

    /** App instances, each a HikariCP pool; user n borrows from instance n % instances. */
    final class Pooled implements ConnectionSource {
        private final List<HikariDataSource> pools = new ArrayList<>();
        private final int poolSize;

        Pooled(Target target, Driver.Hikari h) {
            this.poolSize = h.poolSize();
            Properties props = target.connectionProperties(h.properties());
            props.remove("user");
            props.remove("password");
            for (int i = 1; i <= h.instances(); i++) {
                HikariConfig config = new HikariConfig();
                config.setPoolName("app-" + i);
                config.setJdbcUrl(target.jdbcUrl());
                config.setUsername(target.user());
                config.setPassword(target.password());
                config.setDataSourceProperties(props);
                config.setMaximumPoolSize(h.poolSize());
                config.setMinimumIdle(h.poolSize()); // a fixed-size pool, as HikariCP recommends
                config.setConnectionTimeout(h.connectionTimeout().toMillis());
                config.setInitializationFailTimeout(-1); // fail in the measured requests, not here
                pools.add(new HikariDataSource(config));
            }
        }

        @Override
        public Connection open(long userId) throws SQLException {
            return pools.get((int) (userId % pools.size())).getConnection();
        }

        @Override
        public void release(Connection connection) {
            closeQuietly(connection);
        }

        /** Borrows every connection of every pool at once and gives them back: the pools are then full. */
        @Override
        public void prewarm() throws SQLException {
            List<Connection> held = new ArrayList<>();
            try {
                for (HikariDataSource pool : pools) {
                    for (int i = 0; i < poolSize; i++) {
                        held.add(pool.getConnection());
                    }
                }
            } finally {
                held.forEach(ConnectionSource::closeQuietly);
            }
        }

        @Override
        public void close() {
            pools.forEach(HikariDataSource::close);
        }
    }

    static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // the connection is gone either way
        }
    }
}
