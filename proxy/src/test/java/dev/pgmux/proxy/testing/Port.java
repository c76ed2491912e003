package dev.pgmux.proxy.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * pgmux's two client ports. Client-visible behaviour is tested on both, with one parameterised test
 * ({@code @EnumSource(Port.class)}): a feature that works on one port only is a bug.
 */
public enum Port {
    SESSION, TRANSACTION;

    public int of(PgmuxHarness pgmux) {
        return this == SESSION ? pgmux.sessionPort() : pgmux.transactionPort();
    }

    public String jdbcUrl(PgmuxHarness pgmux, String database) {
        return "jdbc:postgresql://127.0.0.1:" + of(pgmux) + "/" + database;
    }

    /**
     * A pgjdbc connection as {@code role} through the tenant to database postgres, plain TCP, with a socket
     * timeout (a response that never comes fails the test instead of blocking it), plus {@code extra}.
     */
    public Connection connect(PgmuxHarness pgmux, TestRole role, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", "60");
        props.putAll(extra);
        return DriverManager.getConnection(jdbcUrl(pgmux, "postgres"), PgmuxHarness.loginProperties(role, props));
    }

    public Connection connect(PgmuxHarness pgmux, TestRole role) throws SQLException {
        return connect(pgmux, role, new Properties());
    }

    /** The pooling mode's name as pgmux words it in its errors ("Session", "Transaction"). */
    public String modeName() {
        return this == SESSION ? "Session" : "Transaction";
    }
}
