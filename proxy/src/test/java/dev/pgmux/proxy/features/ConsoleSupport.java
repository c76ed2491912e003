package dev.pgmux.proxy.features;

import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.UserConfig;
import dev.pgmux.protocol.auth.ScramSecret;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** An admin and a stats user of the console, and ways to reach it: pgjdbc (both protocols) and psql. */
final class ConsoleSupport {
    static final UserConfig ADMIN = new UserConfig("admin", "admin-pw");
    static final UserConfig STATS = new UserConfig("watcher", "watcher-pw");

    private ConsoleSupport() {}

    /** The stats user as configured: by its SCRAM verifier, not its password (both forms log in alike). */
    private static final UserConfig STATS_BY_VERIFIER = new UserConfig(STATS.name(),
            ScramSecret.generate(STATS.password(), new SecureRandom()).toVerifier());

    static PgmuxConfig config() {
        return PgmuxConfig.ephemeral(PgmuxHarness.defaultTenant())
                .withConsole(new ConsoleConfig(List.of(ADMIN), List.of(STATS_BY_VERIFIER)));
    }

    /** A pgjdbc connection to the console; {@code mode} is pgjdbc's preferQueryMode (extended or simple). */
    static Connection connect(PgmuxHarness pgmux, Port port, UserConfig user, String mode) throws SQLException {
        return connect(pgmux, port, user.name(), user.password(), "pgbouncer", mode);
    }

    static Connection connect(PgmuxHarness pgmux, Port port, String user, String password, String database,
                              String mode) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        props.setProperty("preferQueryMode", mode);
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(port.jdbcUrl(pgmux, database), props);
    }

    /** A result as the test reads it: "name:type" per column, then its rows as text. */
    record Table(List<String> columns, List<List<String>> rows) {
        int index(String column) {
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).startsWith(column + ":")) {
                    return i;
                }
            }
            throw new AssertionError("no column " + column + " in " + columns);
        }

        List<String> column(String name) {
            int i = index(name);
            return rows.stream().map(r -> r.get(i)).toList();
        }

        /** The first row whose {@code column} is {@code value}. */
        List<String> row(String column, String value) {
            int i = index(column);
            return rows.stream().filter(r -> value.equals(r.get(i))).findFirst()
                    .orElseThrow(() -> new AssertionError("no row with " + column + " = " + value + " in " + rows));
        }

        String value(String keyColumn, String key, String column) {
            return row(keyColumn, key).get(index(column));
        }
    }

    static Table query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData meta = rs.getMetaData();
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                columns.add(meta.getColumnName(i) + ":" + meta.getColumnTypeName(i));
            }
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return new Table(columns, rows);
        }
    }

    /** What psql printed (unaligned, fields split by |, no footer) and its exit code. */
    record PsqlRun(int exit, String output) {
        List<String> lines() {
            return output.lines().toList();
        }
    }

    static PsqlRun psql(PgmuxHarness pgmux, Port port, UserConfig user, String sql) throws IOException,
            InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(psqlBinary().toString(), "-X", "-A", "-F", "|", "-P", "footer=off",
                "-h", "127.0.0.1", "-p", String.valueOf(port.of(pgmux)), "-U", user.name(), "-d", "pgbouncer",
                "-c", sql).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", user.password());
        builder.environment().put("PGSSLMODE", "disable");
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        Process psql = builder.start();
        try {
            if (!psql.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("psql did not finish: " + sql);
            }
            return new PsqlRun(psql.exitValue(), new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            psql.destroyForcibly();
        }
    }

    private static Path psqlBinary() {
        Path bin = TestPostgres.binaries();
        if (bin != null && bin.resolve("psql").toFile().canExecute()) {
            return bin.resolve("psql");
        }
        return Path.of("psql");
    }
}
