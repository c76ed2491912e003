package dev.pgmux.proxy.cluster;

import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.TestRole;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A database of the test cluster made for one test, to be pgmux's metadata database (cluster.metadata_url),
 * reached as the cluster's superuser; dropped, with whatever is still connected to it, when closed.
 */
final class MetadataDatabase implements AutoCloseable {
    private static final AtomicInteger CREATED = new AtomicInteger();

    private final String name;

    private MetadataDatabase(String name) {
        this.name = name;
    }

    static MetadataDatabase create() throws SQLException {
        MetadataDatabase database = new MetadataDatabase(
                "pgmux_meta_" + ProcessHandle.current().pid() + "_" + CREATED.incrementAndGet());
        database.superuserRun("CREATE DATABASE " + database.name);
        return database;
    }

    String name() {
        return name;
    }

    /** cluster.metadata_url for it, user and password percent-encoded. */
    String url() {
        TestPostgres pg = TestPostgres.get();
        return url(pg.host(), pg.port());
    }

    /** cluster.metadata_url through another address (a relay the test can cut). */
    String url(String host, int port) {
        TestRole superuser = TestPostgres.get().superuserRole();
        return "postgresql://" + encode(superuser.name()) + ":" + encode(superuser.password()) + "@" + host + ":"
                + port + "/" + name;
    }

    Connection connect() throws SQLException {
        TestRole superuser = TestPostgres.get().superuserRole();
        return TestPostgres.get().connect(name, superuser.name(), superuser.password());
    }

    /** ALTER DATABASE ... ALLOW_CONNECTIONS: false turns every new connection away, the superuser's too. */
    void allowConnections(boolean allow) throws SQLException {
        superuserRun("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + allow);
    }

    private void superuserRun(String sql) throws SQLException {
        try (Connection c = TestPostgres.get().superuser(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String encode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xFF));
            }
        }
        return out.toString();
    }

    @Override
    public void close() throws SQLException {
        allowConnections(true);
        superuserRun("DROP DATABASE " + name + " WITH (FORCE)");
    }
}
