package dev.pgmux.proxy.cluster;

import static dev.pgmux.proxy.testing.Pgjdbc.text;

import dev.pgmux.config.TenantConfig;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

/** Logins as the SCRAM role to a tenant of the metadata database, through one port of one instance. */
final class TenantLogins {
    private TenantLogins() {}

    static Connection login(PgmuxHarness pgmux, Port port, String tenant) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", TestPostgres.SCRAM.name() + "." + tenant);
        props.setProperty("password", TestPostgres.SCRAM.password());
        props.setProperty("sslmode", "disable");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(port.jdbcUrl(pgmux, "postgres"), props);
    }

    /** Whether a login works and runs a query. */
    static boolean logsIn(PgmuxHarness pgmux, Port port, String tenant) {
        try (Connection c = login(pgmux, port, tenant)) {
            return "1".equals(text(c, "SELECT 1"));
        } catch (SQLException e) {
            return false;
        }
    }

    /** The tenant as the instance runs it now. */
    static Optional<TenantConfig> running(PgmuxHarness pgmux, String id) {
        return pgmux.server().runtime().config().tenant(id);
    }
}
