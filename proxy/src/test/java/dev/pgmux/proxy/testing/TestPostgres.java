package dev.pgmux.proxy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The real Postgres that pgmux's integration tests run against: one per test JVM, started on
 * first use and shared by all test classes.
 *
 * <p>It is found in this order:
 * <ol>
 *   <li>the environment variable {@value #URL_ENV}, a superuser URL such as
 *       {@code postgresql://postgres:secret@127.0.0.1:5432/postgres} (or {@code jdbc:postgresql://...}
 *       with {@code user}/{@code password} parameters). The test roles and databases are created
 *       on that server if missing. Such a server is not ours to stop, so {@link #stop()} and
 *       {@link #start()} throw. Its {@code pg_hba.conf} decides which authentication method each
 *       role really gets: give it the three lines below for the roles to behave as intended;</li>
 *   <li>PostgreSQL server binaries on the machine ({@code pg_config --bindir}, else the highest
 *       version under {@code /usr/lib/postgresql/<version>/bin}). A private cluster is
 *       {@code initdb}ed under the module's {@code target/} directory, started on a free port of
 *       127.0.0.1 (as the {@code postgres} OS user when the tests run as root, because Postgres
 *       refuses to run as root) and stopped when the JVM exits;</li>
 *   <li>otherwise {@link #get()} throws: tests never skip for want of a Postgres.</li>
 * </ol>
 *
 * <p>The private cluster authenticates over TCP only, with this {@code pg_hba.conf}:
 * <pre>
 * host all trust_user   127.0.0.1/32 trust
 * host all plain_user   127.0.0.1/32 password
 * host all all          127.0.0.1/32 md5
 * </pre>
 * where {@code md5} means SCRAM-SHA-256 for roles whose password is stored as SCRAM and MD5 for
 * roles whose password is stored as MD5. The roles are {@link #SCRAM}, {@link #MD5},
 * {@link #PLAIN}, {@link #TRUST} and the superuser {@link #SUPERUSER}; each may create objects in
 * database {@code postgres} and in its schema {@code public}. A second database,
 * {@value #OTHER_DATABASE}, is owned by {@code scram_user}.
 *
 * <p>System property {@code pgmux.test.pg.keep=true} keeps the private cluster's data
 * directory (with its {@code server.log}) after the JVM exits; by default it is deleted.
 */
public final class TestPostgres {

    /** Environment variable naming an existing Postgres to use, as a superuser URL. */
    public static final String URL_ENV = "PGMUX_TEST_PG_URL";

    /** Password stored as SCRAM-SHA-256, authenticated with SCRAM. */
    public static final TestRole SCRAM = new TestRole("scram_user", "scram_pass");
    /** Password stored as MD5, authenticated with MD5. */
    public static final TestRole MD5 = new TestRole("md5_user", "md5_pass");
    /** Authenticated with the cleartext {@code password} method (password stored as SCRAM). */
    public static final TestRole PLAIN = new TestRole("plain_user", "plain_pass");
    /** Logs in without a password ({@code trust}). */
    public static final TestRole TRUST = new TestRole("trust_user", "");
    /**
     * The private cluster's superuser; its password is stored as SCRAM. With
     * {@value #URL_ENV} the superuser is the one in the URL: see {@link #superuserRole()}.
     */
    public static final TestRole SUPERUSER = new TestRole("postgres", "postgres_pass");

    /** The second database, owned by {@code scram_user}. */
    public static final String OTHER_DATABASE = "otherdb";

    private static final List<TestRole> TEST_ROLES = List.of(SCRAM, MD5, PLAIN, TRUST);
    private static final String DEFAULT_DATABASE = "postgres";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TERMINATE_TIMEOUT = Duration.ofSeconds(10);
    private static final String KEEP_PROPERTY = "pgmux.test.pg.keep";

    private static final String NO_POSTGRES = """
            No PostgreSQL server is available for the pgmux integration tests, and they do not skip.
            Provide one of:
              - the environment variable %s set to a superuser URL of a running server,
                e.g. %s=postgresql://postgres:secret@127.0.0.1:5432/postgres
                (the test roles and databases are created on it if missing);
              - PostgreSQL server binaries (initdb, pg_ctl, postgres), e.g. apt-get install postgresql,
                found via `pg_config --bindir` or under /usr/lib/postgresql/<version>/bin;
                the tests then start a private cluster of their own.
            (A Testcontainers/Docker fallback is not implemented yet.)"""
            .formatted(URL_ENV, URL_ENV);

    private static final Object SINGLETON_LOCK = new Object();
    private static TestPostgres instance;
    private static RuntimeException startFailure;

    private final String host;
    private final int port;
    private final TestRole superuser;
    private final Cluster cluster; // null for a server given by URL

    private TestPostgres(String host, int port, TestRole superuser, Cluster cluster) {
        this.host = host;
        this.port = port;
        this.superuser = superuser;
        this.cluster = cluster;
    }

    /**
     * What makes one private cluster differ from another: its {@code pg_hba.conf}, settings added to its
     * configuration, files written into its data directory (certificates), and the JDBC properties the
     * fixture's own connections to it need (such as {@code sslmode=require}).
     */
    record ClusterSpec(String description, String hba, String settings, Map<String, String> files, Properties connection) {
        /** The main test cluster: plaintext TCP, the roles' methods as listed in the class comment. */
        static final ClusterSpec PLAIN = new ClusterSpec("test Postgres", Cluster.HBA, "", Map.of(), new Properties());
    }

    /**
     * Starts a private cluster of the given kind (besides the main one), with the test roles, from the
     * installed binaries; throws when there are none. Every call starts another cluster.
     */
    static TestPostgres startManaged(ClusterSpec spec) {
        Path bindir = findBinaries();
        if (bindir == null) {
            throw new IllegalStateException("the " + spec.description() + " needs PostgreSQL server binaries of its own"
                    + " (initdb, pg_ctl, postgres), even when " + URL_ENV + " names the main one.\n" + NO_POSTGRES);
        }
        return managed(bindir, spec);
    }

    /**
     * The test JVM's Postgres, started (or set up) on the first call. Thread-safe. If it cannot
     * be provided, this and every later call throw an {@link IllegalStateException} that says why.
     */
    public static TestPostgres get() {
        synchronized (SINGLETON_LOCK) {
            if (instance != null) {
                return instance;
            }
            if (startFailure != null) {
                throw new IllegalStateException(startFailure.getMessage(), startFailure);
            }
            try {
                instance = create();
                return instance;
            } catch (RuntimeException | Error e) {
                startFailure = e instanceof RuntimeException re ? re
                        : new IllegalStateException(e.toString(), e);
                throw e;
            }
        }
    }

    /** Host the server listens on ({@code 127.0.0.1} for the private cluster). */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** {@code jdbc:postgresql://<host>:<port>/<database>}. */
    public String jdbcUrl(String database) {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    /** A direct connection (not through pgmux) to database {@code postgres}. */
    public Connection connect(String user, String password) throws SQLException {
        return connect(DEFAULT_DATABASE, user, password);
    }

    /** A direct connection (not through pgmux) to database {@code postgres}. */
    public Connection connect(TestRole role) throws SQLException {
        return connect(DEFAULT_DATABASE, role.name(), role.password());
    }

    /** A direct connection (not through pgmux) to the given database. */
    public Connection connect(String database, String user, String password) throws SQLException {
        return openConnection(database, user, password, 10);
    }

    /** A direct superuser connection to database {@code postgres}. */
    public Connection superuser() throws SQLException {
        return connect(superuser.name(), superuser.password());
    }

    /** The superuser actually used: {@link #SUPERUSER}, or the one given by {@value #URL_ENV}. */
    public TestRole superuserRole() {
        return superuser;
    }

    /** True when the fixture started this server itself, so it can be stopped and restarted. */
    public boolean managed() {
        return cluster != null;
    }

    /**
     * Stops the server (fast shutdown: sessions are terminated) and keeps its data, for outage
     * tests. Does nothing if it is already stopped. Only for a {@linkplain #managed() managed}
     * cluster.
     */
    public void stop() {
        requireManaged("stop");
        cluster.lock.lock();
        try {
            cluster.stop(false);
        } finally {
            cluster.lock.unlock();
        }
    }

    /** How {@link #crash} brings the server down. */
    public enum Crash {
        /** {@code pg_ctl stop -m immediate}: every backend is told to quit at once; the next start recovers as after a crash. */
        IMMEDIATE,
        /** SIGKILL to the postmaster: its backends find it gone and quit on their own. */
        KILL_POSTMASTER
    }

    /**
     * Brings the server down abruptly, with its clients mid-query, and returns once no process of it is
     * left (so that {@link #start()} can bring it back). Only for a {@linkplain #managed() managed} cluster.
     */
    public void crash(Crash how) {
        requireManaged("crash");
        cluster.lock.lock();
        try {
            cluster.crash(how);
        } finally {
            cluster.lock.unlock();
        }
    }

    /**
     * Starts the server again on the same port and returns once it accepts connections. Does
     * nothing if it is running. Only for a {@linkplain #managed() managed} cluster.
     */
    public void start() {
        requireManaged("start");
        cluster.lock.lock();
        try {
            cluster.start();
            awaitReady(cluster);
        } finally {
            cluster.lock.unlock();
        }
    }

    /**
     * Terminates every backend of {@code user} (other than the superuser connection doing it)
     * and returns once they are gone.
     */
    public void terminateBackends(String user) {
        try (Connection c = superuser()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            + " WHERE usename = ? AND pid <> pg_backend_pid()")) {
                ps.setString(1, user);
                ps.executeQuery().close();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND pid <> pg_backend_pid()")) {
                ps.setString(1, user);
                long[] left = {-1};
                Wait.until("every backend of " + user + " gone after pg_terminate_backend", TERMINATE_TIMEOUT, () -> {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        left[0] = rs.getLong(1);
                    }
                    return left[0] == 0;
                }, () -> left[0] + " backend(s) of " + user + " still alive");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot terminate the backends of " + user + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "TestPostgres[" + host + ":" + port + (managed() ? ", managed " + cluster.dataDir : ", external") + "]";
    }

    // ------------------------------------------------------------------------------------------
    // Creation

    private static TestPostgres create() {
        String url = System.getenv(URL_ENV);
        if (url != null && !url.isBlank()) {
            return external(url.trim());
        }
        Path bindir = findBinaries();
        if (bindir == null) {
            throw new IllegalStateException(NO_POSTGRES);
        }
        return managed(bindir, ClusterSpec.PLAIN);
    }

    private static TestPostgres external(String url) {
        ServerUrl server = ServerUrl.parse(url);
        TestPostgres pg = new TestPostgres(server.host, server.port, new TestRole(server.user, server.password), null);
        try (Connection c = pg.superuser()) {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    throw new IllegalStateException(URL_ENV + " must name a superuser; " + server.user + " is not one");
                }
            }
            provision(c, false);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot use the Postgres given by " + URL_ENV + " ("
                    + server.redacted + "): " + e.getMessage(), e);
        }
        return pg;
    }

    private static TestPostgres managed(Path bindir, ClusterSpec spec) {
        long t0 = System.nanoTime();
        Cluster cluster = Cluster.initialise(bindir, spec);
        TestPostgres pg = new TestPostgres("127.0.0.1", cluster.port, SUPERUSER, cluster);
        cluster.lock.lock();
        try {
            awaitReady(cluster);
            try (Connection c = pg.superuser()) {
                provision(c, true);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create the test roles in the Postgres cluster "
                        + cluster.dataDir + ": " + e.getMessage() + cluster.logTail(), e);
            }
        } finally {
            cluster.lock.unlock();
        }
        System.err.printf(Locale.ROOT, "pgmux %s: %s on 127.0.0.1:%d, data %s, ready in %d ms%n",
                spec.description(), cluster.bindir, cluster.port, cluster.dataDir, (System.nanoTime() - t0) / 1_000_000);
        return pg;
    }

    /** Creates (or brings up to date) the test roles and databases; idempotent. */
    private static void provision(Connection c, boolean ownCluster) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            if (ownCluster) {
                st.execute("ALTER ROLE " + ident(SUPERUSER.name()) + " PASSWORD " + literal(SUPERUSER.password()));
            }
            ensureRole(c, SCRAM);
            ensureRole(c, PLAIN);
            ensureRole(c, TRUST);
            st.execute("SET password_encryption = 'md5'");
            ensureRole(c, MD5);
            st.execute("RESET password_encryption");
            for (TestRole role : TEST_ROLES) {
                st.execute("GRANT CREATE ON DATABASE " + ident(DEFAULT_DATABASE) + " TO " + ident(role.name()));
                st.execute("GRANT CREATE ON SCHEMA public TO " + ident(role.name()));
            }
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                ps.setString(1, OTHER_DATABASE);
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (!exists) {
                try {
                    st.execute("CREATE DATABASE " + ident(OTHER_DATABASE) + " OWNER " + ident(SCRAM.name()));
                } catch (SQLException e) {
                    if (!"42P04".equals(e.getSQLState())) { // duplicate_database: created meanwhile
                        throw e;
                    }
                    exists = true;
                }
            }
            if (exists) {
                st.execute("ALTER DATABASE " + ident(OTHER_DATABASE) + " OWNER TO " + ident(SCRAM.name()));
            }
        }
    }

    /** Creates the role, or resets it; the password is stored per the session's password_encryption. */
    private static void ensureRole(Connection c, TestRole role) throws SQLException {
        String options = " LOGIN NOSUPERUSER PASSWORD "
                + (role.password().isEmpty() ? "NULL" : literal(role.password()));
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role.name());
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
        }
        try (Statement st = c.createStatement()) {
            if (!exists) {
                try {
                    st.execute("CREATE ROLE " + ident(role.name()) + options);
                    return;
                } catch (SQLException e) {
                    if (!"42710".equals(e.getSQLState())) { // duplicate_object: created meanwhile
                        throw e;
                    }
                }
            }
            st.execute("ALTER ROLE " + ident(role.name()) + options);
        }
    }

    /** Polls with real connections until the server accepts the superuser, or fails. */
    private static void awaitReady(Cluster cluster) {
        try {
            DriverManager.getDriver("jdbc:postgresql://127.0.0.1/");
        } catch (SQLException e) {
            throw new IllegalStateException("the PostgreSQL JDBC driver (org.postgresql:postgresql) is not on the test classpath", e);
        }
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        SQLException last;
        while (true) {
            try {
                openConnectionTo("127.0.0.1", cluster.port, DEFAULT_DATABASE, SUPERUSER.name(), SUPERUSER.password(), 2,
                        cluster.spec.connection()).close();
                return;
            } catch (SQLException e) {
                last = e;
            }
            String state = last.getSQLState();
            boolean transientFailure = state == null || state.startsWith("08") || state.equals("57P03");
            if (!transientFailure || Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("Postgres on 127.0.0.1:" + cluster.port + " did not accept the superuser "
                        + (transientFailure ? "within " + READY_TIMEOUT.toSeconds() + " s" : "")
                        + ": " + last.getMessage() + cluster.logTail(), last);
            }
            pause(50);
        }
    }

    private Connection openConnection(String database, String user, String password, int connectTimeoutSeconds)
            throws SQLException {
        return openConnectionTo(host, port, database, user, password, connectTimeoutSeconds,
                cluster == null ? new Properties() : cluster.spec.connection());
    }

    private static Connection openConnectionTo(String host, int port, String database, String user, String password,
                                               int connectTimeoutSeconds, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.putAll(extra);
        props.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", Integer.toString(connectTimeoutSeconds));
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return DriverManager.getConnection("jdbc:postgresql://" + h + ":" + port + "/" + database, props);
    }

    private void requireManaged(String what) {
        if (cluster == null) {
            throw new IllegalStateException("cannot " + what + " the Postgres given by " + URL_ENV
                    + ": restart tests need a managed cluster (unset " + URL_ENV
                    + " so that the tests start their own from the installed PostgreSQL binaries)");
        }
    }

    private static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Postgres", e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Finding binaries

    /** The directory of the PostgreSQL programs the tests' server comes from (psql beside it), or null. */
    public static Path binaries() {
        return findBinaries();
    }

    /** {@code pg_config --bindir} if it holds initdb, else the highest /usr/lib/postgresql/<v>/bin; or null. */
    static Path findBinaries() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir")
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty()) {
                Path bindir = Path.of(out.lines().findFirst().orElse(""));
                if (hasServerBinaries(bindir)) {
                    return bindir;
                }
            } else {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            // pg_config is not on the PATH
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running pg_config", e);
        }
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return null;
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions
                    .filter(v -> hasServerBinaries(v.resolve("bin")))
                    .max(Comparator.comparing(v -> v.getFileName().toString(), TestPostgres::compareVersions))
                    .map(v -> v.resolve("bin"))
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean hasServerBinaries(Path bindir) {
        return Files.isExecutable(bindir.resolve("initdb")) && Files.isExecutable(bindir.resolve("pg_ctl"))
                && Files.isExecutable(bindir.resolve("postgres"));
    }

    static int compareVersions(String a, String b) {
        int[] x = versionParts(a);
        int[] y = versionParts(b);
        return Arrays.compare(x, y);
    }

    private static int[] versionParts(String v) {
        String[] parts = v.split("\\.");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                out[i] = -1;
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // An external server

    private record ServerUrl(String host, int port, String user, String password, String redacted) {

        static ServerUrl parse(String url) {
            String s = url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url;
            URI uri;
            try {
                uri = new URI(s);
            } catch (URISyntaxException e) {
                throw new IllegalStateException(URL_ENV + " is not a valid URL: " + e.getMessage(), e);
            }
            String scheme = uri.getScheme();
            if (!"postgresql".equalsIgnoreCase(scheme) && !"postgres".equalsIgnoreCase(scheme)) {
                throw new IllegalStateException(URL_ENV
                        + " must look like postgresql://user:password@host:port/database, not " + scheme + "://...");
            }
            String host = uri.getHost() == null || uri.getHost().isEmpty() ? "127.0.0.1" : uri.getHost();
            int port = uri.getPort() < 0 ? 5432 : uri.getPort();
            String user = null;
            String password = "";
            String info = uri.getRawUserInfo();
            if (info != null) {
                int colon = info.indexOf(':');
                user = decode(colon < 0 ? info : info.substring(0, colon));
                password = colon < 0 ? "" : decode(info.substring(colon + 1));
            }
            String query = uri.getRawQuery();
            if (query != null) {
                for (String kv : query.split("&")) {
                    int eq = kv.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String key = decode(kv.substring(0, eq));
                    String value = decode(kv.substring(eq + 1));
                    if (key.equals("user")) {
                        user = value;
                    } else if (key.equals("password")) {
                        password = value;
                    }
                }
            }
            if (user == null || user.isEmpty()) {
                user = "postgres";
            }
            String redacted = "postgresql://" + user + (password.isEmpty() ? "" : ":***") + "@" + host + ":" + port;
            return new ServerUrl(host, port, user, password, redacted);
        }

        private static String decode(String s) {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        }
    }

    // ------------------------------------------------------------------------------------------
    // The private cluster

    private static final class Cluster {
        private static final String OWNER_FILE = "pgmux-owner-pid";
        private static final String SETTINGS_FILE = "pgmux_test.conf";
        private static final String LOG_FILE = "server.log";
        private static final Duration STALE_AGE = Duration.ofMinutes(10);
        private static final String HBA = """
                # pgmux test cluster: TCP only.
                # "md5" means SCRAM-SHA-256 for roles stored as SCRAM and MD5 for roles stored as MD5.
                host all trust_user   127.0.0.1/32 trust
                host all plain_user   127.0.0.1/32 password
                host all all          127.0.0.1/32 md5
                """;

        final ReentrantLock lock = new ReentrantLock();
        final ClusterSpec spec;
        final Path bindir;
        final Path workDir;
        final Path dataDir;
        final List<String> asPostgres; // command prefix that runs as the postgres OS user; empty if not root
        final UserPrincipal postgresUser; // null if not root
        int port;

        private Cluster(ClusterSpec spec, Path bindir, Path workDir, Path dataDir, List<String> asPostgres,
                        UserPrincipal postgresUser) {
            this.spec = spec;
            this.bindir = bindir;
            this.workDir = workDir;
            this.dataDir = dataDir;
            this.asPostgres = asPostgres;
            this.postgresUser = postgresUser;
        }

        /** initdb, configure and start a new cluster under target/. */
        static Cluster initialise(Path bindir, ClusterSpec spec) {
            boolean root = runningAsRoot();
            List<String> prefix = root ? runAsPostgresPrefix() : List.of();
            UserPrincipal postgresUser = null;
            Path target = targetDirectory();
            try {
                if (root) {
                    postgresUser = FileSystems.getDefault().getUserPrincipalLookupService()
                            .lookupPrincipalByName("postgres");
                }
                Files.createDirectories(target);
                reapStale(target, bindir, prefix);
                byte[] random = new byte[6];
                new SecureRandom().nextBytes(random);
                Path dataDir = target.resolve("pgdata-" + HexFormat.of().formatHex(random));
                Files.createDirectory(dataDir);
                Cluster cluster = new Cluster(spec, bindir, target, dataDir, prefix, postgresUser);
                Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown, "pgmux-test-postgres-shutdown"));
                cluster.initdb();
                cluster.configure();
                cluster.firstStart();
                return cluster;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare a Postgres cluster under " + target
                        + (root ? " for the postgres OS user" : "") + ": " + e, e);
            }
        }

        private void initdb() throws IOException {
            Path pwfile = workDir.resolve(dataDir.getFileName() + ".pwfile");
            Files.writeString(pwfile, SUPERUSER.password() + "\n");
            try {
                if (postgresUser != null) {
                    Files.setPosixFilePermissions(pwfile, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
                    Files.setOwner(pwfile, postgresUser);
                    Files.setOwner(dataDir, postgresUser);
                    makeTraversable(workDir);
                }
                Result r = run(Duration.ofMinutes(2), bin("initdb"), "-D", dataDir.toString(),
                        "--auth=trust", "--username=postgres", "--pwfile=" + pwfile,
                        "-E", "UTF8", "--locale=C", "--no-sync");
                if (r.exit != 0) {
                    throw new IllegalStateException("initdb of " + dataDir + " failed (exit " + r.exit + "):\n" + r.output);
                }
            } finally {
                Files.deleteIfExists(pwfile);
            }
        }

        private void configure() throws IOException {
            writeOwned(dataDir.resolve(OWNER_FILE), ProcessHandle.current().pid() + "\n");
            writeOwned(dataDir.resolve("pg_hba.conf"), spec.hba());
            for (Map.Entry<String, String> file : spec.files().entrySet()) {
                Path path = dataDir.resolve(file.getKey());
                writeOwned(path, file.getValue());
                // Postgres refuses a private key that others may read.
                Files.setPosixFilePermissions(path, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
            }
            String conf = Files.readString(dataDir.resolve("postgresql.conf"));
            writeOwned(dataDir.resolve("postgresql.conf"),
                    conf + "\n# pgmux test settings\ninclude '" + SETTINGS_FILE + "'\n");
        }

        private void writeSettings() throws IOException {
            writeOwned(dataDir.resolve(SETTINGS_FILE), """
                    listen_addresses = '127.0.0.1'
                    port = %d
                    unix_socket_directories = ''
                    max_connections = 300
                    fsync = off
                    synchronous_commit = off
                    full_page_writes = off
                    shared_buffers = 128MB
                    log_min_messages = warning
                    """.formatted(port) + spec.settings());
        }

        private void writeOwned(Path file, String content) throws IOException {
            Files.writeString(file, content);
            if (postgresUser != null) {
                Files.setOwner(file, postgresUser);
            }
        }

        /** The first start, on a fresh free port; retried on another port if that one got taken meanwhile. */
        private void firstStart() throws IOException {
            for (int attempt = 1; ; attempt++) {
                port = freePort();
                writeSettings();
                lock.lock();
                try {
                    start();
                    return;
                } catch (IllegalStateException e) {
                    if (attempt >= 3 || !e.getMessage().contains("could not bind")) {
                        throw e;
                    }
                } finally {
                    lock.unlock();
                }
            }
        }

        /** Starts the server unless it is running; pg_ctl -w waits for it to be ready. Caller holds lock. */
        void start() {
            if (isRunning()) {
                return;
            }
            Result r = run(Duration.ofSeconds(90), bin("pg_ctl"), "-D", dataDir.toString(),
                    "-l", dataDir.resolve(LOG_FILE).toString(), "-w", "-t", "60", "-s", "start");
            if (r.exit != 0) {
                throw new IllegalStateException("Postgres " + dataDir + " did not start on 127.0.0.1:" + port
                        + " (pg_ctl exit " + r.exit + "): " + r.output.strip() + logTail());
            }
        }

        /** Stops the server (fast, else immediate) unless it is stopped; keeps the data. */
        void stop(boolean exiting) {
            if (!isRunning()) {
                return;
            }
            Duration timeout = exiting ? Duration.ofSeconds(15) : Duration.ofSeconds(60);
            Result r = run(timeout.plusSeconds(5), bin("pg_ctl"), "-D", dataDir.toString(),
                    "-w", "-t", Long.toString(timeout.toSeconds()), "-s", "-m", "fast", "stop");
            if (r.exit == 0 || !isRunning()) {
                return;
            }
            Result immediate = run(Duration.ofSeconds(20), bin("pg_ctl"), "-D", dataDir.toString(),
                    "-w", "-t", "15", "-s", "-m", "immediate", "stop");
            if (immediate.exit == 0 || !isRunning()) {
                return;
            }
            killPostmaster();
            if (!exiting && isRunning()) {
                throw new IllegalStateException("cannot stop Postgres " + dataDir + ": " + r.output.strip()
                        + "; " + immediate.output.strip() + logTail());
            }
        }

        /** Caller holds lock. */
        void crash(Crash how) {
            Optional<ProcessHandle> postmaster = postmasterPid(dataDir).flatMap(ProcessHandle::of);
            if (postmaster.isEmpty() || !isRunning()) {
                return;
            }
            List<ProcessHandle> children = postmaster.get().children().toList();
            switch (how) {
                case IMMEDIATE -> {
                    Result r = run(Duration.ofSeconds(20), bin("pg_ctl"), "-D", dataDir.toString(),
                            "-w", "-t", "15", "-s", "-m", "immediate", "stop");
                    if (r.exit != 0 && isRunning()) {
                        throw new IllegalStateException("immediate stop of Postgres " + dataDir + " failed: "
                                + r.output.strip() + logTail());
                    }
                }
                case KILL_POSTMASTER -> {
                    postmaster.get().destroyForcibly();
                    postmaster.get().onExit().orTimeout(10, TimeUnit.SECONDS).join();
                }
            }
            // Orphaned backends exit once they notice; any left would keep the shared memory and the port.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (ProcessHandle child : children) {
                long left = Math.max(0, deadline - System.nanoTime());
                if (child.onExit().completeOnTimeout(child, left, TimeUnit.NANOSECONDS).join().isAlive()) {
                    child.destroyForcibly();
                    child.onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> child).join();
                }
            }
        }

        boolean isRunning() {
            // pg_ctl status: 0 running, 3 not running, 4 no usable data directory
            return run(Duration.ofSeconds(20), bin("pg_ctl"), "-D", dataDir.toString(), "status").exit == 0;
        }

        private void killPostmaster() {
            postmasterPid(dataDir).flatMap(ProcessHandle::of).ifPresent(ph -> {
                ph.destroyForcibly();
                ph.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> ph).join();
            });
        }

        /** Shutdown hook: stop the server and, unless asked to keep it, delete the data. */
        private void shutdown() {
            boolean locked = false;
            try {
                locked = lock.tryLock(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                if (Files.exists(dataDir.resolve("PG_VERSION"))) {
                    stop(true);
                }
                if (!Boolean.getBoolean(KEEP_PROPERTY)) {
                    deleteRecursively(dataDir);
                }
            } catch (RuntimeException | IOException e) {
                System.err.println("pgmux test Postgres: cleanup of " + dataDir + " failed: " + e);
            } finally {
                if (locked) {
                    lock.unlock();
                }
            }
        }

        /** The last lines of server.log, for exception messages. */
        String logTail() {
            Path log = dataDir.resolve(LOG_FILE);
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                List<String> tail = lines.subList(Math.max(0, lines.size() - 40), lines.size());
                return tail.isEmpty() ? "\n(" + log + " is empty)"
                        : "\n--- last lines of " + log + " ---\n" + String.join("\n", tail);
            } catch (NoSuchFileException e) {
                return "\n(no " + log + ")";
            } catch (IOException | UncheckedIOException e) {
                return "\n(cannot read " + log + ": " + e + ")";
            }
        }

        private String bin(String name) {
            return bindir.resolve(name).toString();
        }

        private Result run(Duration timeout, String... command) {
            return runCommand(workDir, asPostgres, timeout, command);
        }

        /** Clusters left behind by test JVMs that died without their shutdown hook: stop and delete them. */
        private static void reapStale(Path target, Path bindir, List<String> prefix) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(target, "pgdata-*")) {
                for (Path dir : dirs) {
                    try {
                        FileTime modified = Files.getLastModifiedTime(dir);
                        boolean old = modified.toInstant().isBefore(Instant.now().minus(STALE_AGE));
                        if (!Files.isDirectory(dir)) {
                            if (old) { // a password file left by an interrupted initdb
                                Files.deleteIfExists(dir);
                            }
                            continue;
                        }
                        Path owner = dir.resolve(OWNER_FILE);
                        if (Files.exists(owner)) {
                            long pid = Long.parseLong(Files.readString(owner).trim());
                            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                                continue; // another live test JVM's cluster
                            }
                        } else if (!old) {
                            continue; // possibly another JVM's cluster being initialised
                        }
                        if (Files.exists(dir.resolve("postmaster.pid"))) {
                            runCommand(target, prefix, Duration.ofSeconds(20), bindir.resolve("pg_ctl").toString(),
                                    "-D", dir.toString(), "-w", "-t", "15", "-s", "-m", "immediate", "stop");
                            postmasterPid(dir).flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
                        }
                        deleteRecursively(dir);
                    } catch (IOException | RuntimeException e) {
                        System.err.println("pgmux test Postgres: cannot remove stale cluster " + dir + ": " + e);
                    }
                }
            } catch (IOException e) {
                System.err.println("pgmux test Postgres: cannot look for stale clusters in " + target + ": " + e);
            }
        }

        private static Optional<Long> postmasterPid(Path dataDir) {
            try {
                String first = Files.readAllLines(dataDir.resolve("postmaster.pid")).stream().findFirst().orElse("");
                return Optional.of(Long.parseLong(first.trim()));
            } catch (IOException | NumberFormatException e) {
                return Optional.empty();
            }
        }

        /** The module's target/ directory: the parent of target/test-classes, else ./target. */
        private static Path targetDirectory() {
            try {
                Path classes = Path.of(TestPostgres.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                Path parent = classes.getParent();
                if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("target")) {
                    return parent;
                }
            } catch (URISyntaxException | RuntimeException e) {
                // fall back to the working directory, which Maven sets to the module
            }
            return Path.of("").toAbsolutePath().resolve("target");
        }

        private static boolean runningAsRoot() {
            if ("root".equals(System.getProperty("user.name"))) {
                return true;
            }
            Result id = runCommand(Path.of("").toAbsolutePath(), List.of(), Duration.ofSeconds(10), "id", "-u");
            return id.exit == 0 && id.output.strip().equals("0");
        }

        /** runuser -u postgres --, else su; the postgres OS user must exist. */
        private static List<String> runAsPostgresPrefix() {
            Result id = runCommand(Path.of("/"), List.of(), Duration.ofSeconds(10), "id", "-u", "postgres");
            if (id.exit != 0) {
                throw new IllegalStateException("The tests run as root, and Postgres refuses to run as root, but there is no"
                        + " 'postgres' OS user to run it as. Create one (useradd --system postgres), run the tests"
                        + " as a non-root user, or set " + URL_ENV + ".\n" + NO_POSTGRES);
            }
            for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
                if (Files.isExecutable(Path.of(dir, "runuser"))) {
                    return List.of(dir + "/runuser", "-u", "postgres", "--");
                }
            }
            return List.of("su", "-s", "/bin/sh", "postgres", "-c"); // the command follows as one shell string
        }

        /** Gives "others" search permission on dir and its ancestors where missing, so postgres can reach its data. */
        private static void makeTraversable(Path dir) throws IOException {
            for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    Set<PosixFilePermission> widened = EnumSet.copyOf(perms);
                    widened.add(PosixFilePermission.OTHERS_EXECUTE);
                    Files.setPosixFilePermissions(p, widened);
                    System.err.println("pgmux test Postgres: added o+x to " + p + " so the postgres OS user can reach its data");
                }
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                return s.getLocalPort();
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Processes and files

    private record Result(int exit, String output) {
    }

    /** Runs a command (as postgres when prefix is given) with output captured to a file, bounded by timeout. */
    private static Result runCommand(Path workDir, List<String> prefix, Duration timeout, String... command) {
        List<String> full = new ArrayList<>(prefix);
        if (!prefix.isEmpty() && prefix.get(prefix.size() - 1).equals("-c")) {
            StringBuilder sh = new StringBuilder("exec");
            for (String arg : command) {
                sh.append(" '").append(arg.replace("'", "'\\''")).append('\'');
            }
            full.add(sh.toString());
        } else {
            full.addAll(Arrays.asList(command));
        }
        Path out = null;
        try {
            out = Files.createTempFile("pgmux-pg-cmd", ".out");
            ProcessBuilder pb = new ProcessBuilder(full)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("PG"));
            env.put("LC_ALL", "C");
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return new Result(-1, "timed out after " + timeout.toSeconds() + " s: " + String.join(" ", full)
                        + "\n" + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out));
        } catch (IOException e) {
            return new Result(-1, "cannot run " + String.join(" ", full) + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
