package dev.pgmux.proxy.cluster;

import dev.pgmux.config.ClusterConfig;
import dev.pgmux.config.ConfigException;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.MetadataUrl;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.config.TlsConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tenants kept in the metadata database ({@code cluster.metadata_url}): creates pgmux's schema there
 * (versioned migrations, one instance at a time under an advisory lock), reads the tenants at start, and
 * follows their changes: a trigger notifies channel {@value #CHANNEL} on every change, and the tenants are
 * read again on each notification and every {@code cluster.refresh_interval} besides (a notification sent while
 * the connection was down is lost).
 *
 * <p>Each set of tenants that differs from the last one goes to {@code apply} (the reloader, which applies it
 * as a reload does: no client dropped). A row that breaks the rules of a tenant is left out, and its problems
 * are logged once per version of the row; the other rows apply. While the database cannot be reached the
 * tenants last read stay in force, and pgmux tries again every second or two: running clients notice nothing,
 * and a tenant added meanwhile arrives once the database is back.
 *
 * <p>Each instance also registers itself in pgmux.instances (its id and the address where the others reach its
 * transaction port) and renews a heartbeat there; the instances whose heartbeat is younger than
 * cluster.instance_timeout are its peers, to which it passes the cancel requests it cannot place itself
 * ({@link PeerCancels}). A closing instance takes its row out; a row whose heartbeat stopped is forgotten
 * after ten timeouts.
 *
 * <p>All of it runs on one platform thread of its own with pgjdbc, never on an event loop.
 */
public final class MetadataStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetadataStore.class);

    public static final String SCHEMA = "pgmux";
    /** Cancel-key prefixes go from 1 to this: 9 bits above the 22 of a process id (see CancelRegistry). */
    public static final int MAX_KEY_PREFIX = 511;

    /** Another live instance: where it is reached (HOST:PORT), and the prefix of the cancel keys it issues (0: none). */
    public record Peer(String address, int keyPrefix) {
        /** The host, without the brackets of an IPv6 address. */
        public String host() {
            String host = address.substring(0, address.lastIndexOf(':'));
            return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        }

        public int port() {
            return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        }
    }
    public static final String CHANNEL = "pgmux_tenants";
    /** Notified by an instance that registers (or changes its key prefix): the others read their peers again. */
    static final String INSTANCES_CHANNEL = "pgmux_instances";
    /** The tenant API's terminate: its payload is a tenant id whose clients and servers every instance closes. */
    public static final String TERMINATE_CHANNEL = "pgmux_terminate";
    /** Taken while migrating, so that instances starting together do not create the same objects twice. */
    private static final long MIGRATION_LOCK = 0x70676d7578L; // "pgmux"

    /** The schema, one step per version; a step never changes once released. */
    private static final List<String> MIGRATIONS = List.of(
            """
            CREATE TABLE pgmux.tenants (
              id text PRIMARY KEY,
              spec jsonb NOT NULL,
              updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE FUNCTION pgmux.notify_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('pgmux_tenants', coalesce(NEW.id, OLD.id, ''));
              RETURN NULL;
            END $$;
            CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON pgmux.tenants
              FOR EACH ROW EXECUTE FUNCTION pgmux.notify_tenants();
            CREATE TRIGGER tenants_truncated AFTER TRUNCATE ON pgmux.tenants
              FOR EACH STATEMENT EXECUTE FUNCTION pgmux.notify_tenants();
            """,
            """
            CREATE TABLE pgmux.instances (
              instance_id text PRIMARY KEY,
              peer_address text NOT NULL,
              started_at timestamptz NOT NULL DEFAULT now(),
              heartbeat_at timestamptz NOT NULL DEFAULT now()
            );
            """,
            """
            CREATE TABLE pgmux.lease_holders (
              instance_id text PRIMARY KEY,
              expires_at timestamptz NOT NULL
            );
            CREATE TABLE pgmux.slot_leases (
              kind text NOT NULL CHECK (kind IN ('servers', 'clients')),
              tenant text NOT NULL,
              database text NOT NULL DEFAULT '',
              username text NOT NULL DEFAULT '',
              instance_id text NOT NULL REFERENCES pgmux.lease_holders ON DELETE CASCADE,
              slots integer NOT NULL CHECK (slots >= 0),
              wanted integer NOT NULL CHECK (wanted >= 0),
              PRIMARY KEY (kind, tenant, database, username, instance_id)
            );
            """,
            """
            ALTER TABLE pgmux.instances ADD COLUMN key_prefix integer UNIQUE CHECK (key_prefix BETWEEN 1 AND 511);
            """);

    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);

    private final MetadataUrl url;
    private final Duration refreshInterval;
    private final String instanceId;
    private final Duration instanceTimeout;
    private final Duration heartbeatInterval;
    /** Where the other instances reach this one; null until the transaction port is bound. */
    private volatile String peerAddress;
    /** The other live instances, as last read; kept while the database is away. */
    private volatile List<Peer> peers = List.of();
    /** This instance's cancel-key prefix among the others' (1 to 511), 0 until it has one. */
    private volatile int keyPrefix;
    private volatile IntConsumer onKeyPrefix = prefix -> {};
    /** Whether this instance's row is in pgmux.instances and the others were told (/ready waits for it). */
    private final Milestone registered = new Milestone();
    private int announcedPrefix = -1;
    private final Supplier<TlsConfig> tls;
    private final Consumer<List<TenantConfig>> apply;
    private final Thread thread;
    private volatile Consumer<String> terminate = id -> { };
    private volatile boolean closed;
    private final Milestone loaded = new Milestone();
    private volatile Connection connection;
    private volatile List<TenantConfig> applied;
    /** When the tenants were last read (System.currentTimeMillis), 0 before the first read. */
    private volatile long lastReadMillis;
    /** The problems of rows left out, by id and version: each is logged once. */
    private final Map<String, String> reported = new HashMap<>();
    private boolean unreachableLogged;

    public MetadataStore(ClusterConfig cluster, Supplier<TlsConfig> tls, Consumer<List<TenantConfig>> apply) {
        this.url = MetadataUrl.parse(cluster.metadataUrl().orElseThrow());
        this.refreshInterval = cluster.refreshInterval();
        this.instanceId = cluster.instanceId().orElseGet(MetadataStore::defaultInstanceId);
        this.instanceTimeout = cluster.instanceTimeout();
        Duration fifth = instanceTimeout.dividedBy(5);
        this.heartbeatInterval = fifth.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : fifth;
        this.tls = Objects.requireNonNull(tls);
        this.apply = Objects.requireNonNull(apply);
        this.thread = Thread.ofPlatform().daemon().name("pgmux-metadata").unstarted(this::run);
    }

    public void start() {
        thread.start();
    }

    /** What a notification on {@value #TERMINATE_CHANNEL} does with its tenant id (on this store's thread). */
    public void onTerminate(Consumer<String> terminate) {
        this.terminate = Objects.requireNonNull(terminate);
    }

    /** Who hears of this instance's cancel-key prefix (on each heartbeat: 0 while it has none). */
    public void onKeyPrefix(IntConsumer listener) {
        this.onKeyPrefix = Objects.requireNonNull(listener);
    }

    /** Host name, process id and a random suffix: unique enough without cluster.instance_id. */
    public static String defaultInstanceId() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(0x10000));
    }

    /** This instance's name in pgmux.instances. */
    public String instanceId() {
        return instanceId;
    }

    /** Where the other instances reach this one (its transaction port): registered from the next heartbeat on. */
    public void peerAddress(String address) {
        this.peerAddress = address;
    }

    /** The other live instances' peer addresses (HOST:PORT), as last read. */
    public List<String> peers() {
        return peers.stream().map(Peer::address).toList();
    }

    /** The other live instances, as last read. */
    public List<Peer> peerList() {
        return peers;
    }

    /**
     * Reads the tenants once, within {@code max}: pgmux's start waits for them so that its first clients find
     * their tenants. False if the database did not answer in time (the thread goes on trying).
     */
    public boolean awaitLoaded(Duration max) throws InterruptedException {
        return loaded.await(max);
    }

    /** Whether this instance is registered in pgmux.instances, and the others told of it. */
    public boolean registered() {
        return registered.reached();
    }

    /** Waits until this instance is registered, at most {@code max}: false if it was not in time. */
    public boolean awaitRegistered(Duration max) throws InterruptedException {
        return registered.await(max);
    }

    /** Whether pgmux holds a connection to the metadata database now. */
    public boolean connected() {
        return connection != null;
    }

    /** The metadata database's tenants last handed on (rows left out for their problems not counted). */
    public int tenants() {
        List<TenantConfig> current = applied;
        return current == null ? 0 : current.size();
    }

    /** When the tenants were last read, in milliseconds since the epoch; 0 before the first read. */
    public long lastReadMillis() {
        return lastReadMillis;
    }

    /** Whether the tenants have been read at least once (the admin port's /ready waits for it). */
    public boolean loaded() {
        return loaded.reached();
    }

    private void run() {
        Duration retry = RETRY;
        while (!closed) {
            try (Connection c = connect()) {
                connection = c;
                migrate(c);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                    st.execute("LISTEN " + TERMINATE_CHANNEL);
                    st.execute("LISTEN " + INSTANCES_CHANNEL);
                }
                announcedPrefix = -1; // told again on each connection: the row may have gone meanwhile
                if (unreachableLogged) {
                    log.info("metadata database {} reachable again", url);
                    unreachableLogged = false;
                }
                retry = RETRY;
                follow(c);
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!unreachableLogged) {
                    log.warn("metadata database {}: {}; the tenants last read stay in force, trying again",
                            url, e.getMessage());
                    unreachableLogged = true;
                }
                sleep(retry);
                retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
            } finally {
                connection = null;
            }
        }
    }

    private Connection connect() throws SQLException {
        return MetadataConnections.open(url, "pgmux metadata", 30);
    }

    /**
     * Reads the tenants now, then again on each notification and every refresh interval, and beats this
     * instance's heart, until closed; then takes this instance out of pgmux.instances.
     */
    private void follow(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        refresh(c);
        heartbeat(c);
        long next = System.nanoTime() + refreshInterval.toNanos();
        long nextBeat = System.nanoTime() + heartbeatInterval.toNanos();
        while (!closed) {
            PGNotification[] notifications = pg.getNotifications((int) POLL.toMillis());
            boolean changed = false;
            boolean beat = !registered.reached() && peerAddress != null; // registered as soon as the port is bound
            for (PGNotification notification : notifications == null ? new PGNotification[0] : notifications) {
                if (notification.getName().equals(TERMINATE_CHANNEL)) {
                    terminate(notification.getParameter());
                } else if (notification.getName().equals(INSTANCES_CHANNEL)) {
                    beat |= !notification.getParameter().equals(instanceId); // a new instance: read the peers now
                } else {
                    changed = true;
                }
            }
            if (beat) {
                heartbeat(c);
                nextBeat = System.nanoTime() + heartbeatInterval.toNanos();
            }
            if (changed || System.nanoTime() - next >= 0) {
                refresh(c);
                next = System.nanoTime() + refreshInterval.toNanos();
            }
            if (System.nanoTime() - nextBeat >= 0) {
                heartbeat(c);
                nextBeat = System.nanoTime() + heartbeatInterval.toNanos();
            }
        }
        try (PreparedStatement st = c.prepareStatement("DELETE FROM " + SCHEMA + ".instances WHERE instance_id = ?")) {
            st.setString(1, instanceId);
            st.executeUpdate();
        }
    }

    /**
     * Registers this instance (once its peer address is known) with a fresh heartbeat, forgets instances long
     * gone, and reads the others that are alive: those whose heartbeat is younger than cluster.instance_timeout.
     */
    private void heartbeat(Connection c) throws SQLException {
        String address = peerAddress;
        if (address != null) {
            if (keyPrefix == 0) {
                keyPrefix = freeKeyPrefix(c);
            }
            try (PreparedStatement st = c.prepareStatement("INSERT INTO " + SCHEMA + ".instances (instance_id, peer_address, "
                    + "key_prefix) VALUES (?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET peer_address = "
                    + "excluded.peer_address, key_prefix = excluded.key_prefix, heartbeat_at = now()")) {
                st.setString(1, instanceId);
                st.setString(2, address);
                if (keyPrefix == 0) {
                    st.setNull(3, java.sql.Types.INTEGER);
                } else {
                    st.setInt(3, keyPrefix);
                }
                st.executeUpdate();
                onKeyPrefix.accept(keyPrefix);
                if (!registered.reached() || keyPrefix != announcedPrefix) {
                    // The others read their peers at once, not at their next heartbeat: a cancel for a client here
                    // finds this instance from the moment /ready says it serves.
                    try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify('" + INSTANCES_CHANNEL + "', ?)")) {
                        notify.setString(1, instanceId);
                        notify.execute();
                    }
                    announcedPrefix = keyPrefix;
                    registered.reach();
                }
            } catch (SQLException e) {
                if (!"23505".equals(e.getSQLState())) {
                    throw e;
                }
                // Another instance took the prefix first (or, after a long partition, took this one's over):
                // keys are issued without one until the next heartbeat finds a free one.
                keyPrefix = 0;
                onKeyPrefix.accept(0);
            }
        }
        double timeoutSeconds = instanceTimeout.toMillis() / 1000.0;
        try (PreparedStatement st = c.prepareStatement("DELETE FROM " + SCHEMA + ".instances "
                + "WHERE heartbeat_at < now() - make_interval(secs => ?)")) {
            st.setDouble(1, timeoutSeconds * 10);
            st.executeUpdate();
        }
        List<Peer> alive = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement("SELECT peer_address, coalesce(key_prefix, 0) FROM " + SCHEMA
                + ".instances WHERE instance_id <> ? AND heartbeat_at > now() - make_interval(secs => ?) ORDER BY instance_id")) {
            st.setString(1, instanceId);
            st.setDouble(2, timeoutSeconds);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    alive.add(new Peer(rs.getString(1), rs.getInt(2)));
                }
            }
        }
        peers = List.copyOf(alive);
    }

    /**
     * The smallest key prefix no instance row holds (a dead instance's rows, kept for ten timeouts, keep theirs,
     * so that its clients' stale keys do not reach a new instance for a while); 0 when all are taken.
     */
    private int freeKeyPrefix(Connection c) throws SQLException {
        java.util.BitSet used = new java.util.BitSet(MAX_KEY_PREFIX + 1);
        try (PreparedStatement st = c.prepareStatement("SELECT key_prefix FROM " + SCHEMA + ".instances "
                + "WHERE key_prefix IS NOT NULL AND instance_id <> ?")) {
            st.setString(1, instanceId);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    used.set(rs.getInt(1));
                }
            }
        }
        int free = used.nextClearBit(1);
        return free <= MAX_KEY_PREFIX ? free : 0;
    }

    private void migrate(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
            st.execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            st.execute("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".schema_migrations (version integer PRIMARY KEY, "
                    + "applied_at timestamptz NOT NULL DEFAULT now())");
            int version;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM " + SCHEMA + ".schema_migrations")) {
                rs.next();
                version = rs.getInt(1);
            }
            if (version > MIGRATIONS.size()) {
                log.warn("the metadata database's schema is at version {}, newer than this pgmux knows ({}): "
                        + "reading it as version {}", version, MIGRATIONS.size(), MIGRATIONS.size());
            }
            for (int v = version + 1; v <= MIGRATIONS.size(); v++) {
                st.execute(MIGRATIONS.get(v - 1));
                st.execute("INSERT INTO " + SCHEMA + ".schema_migrations (version) VALUES (" + v + ")");
                log.info("metadata database {}: schema migrated to version {}", url, v);
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private void refresh(Connection c) throws SQLException {
        List<TenantConfig> tenants = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, spec::text, updated_at::text FROM " + SCHEMA
                     + ".tenants ORDER BY id")) {
            while (rs.next()) {
                String id = rs.getString(1);
                String version = rs.getString(3);
                try {
                    tenants.add(ConfigLoader.tenant(id, rs.getString(2), tls.get()));
                } catch (ConfigException e) {
                    seen.put(id, version);
                    if (!version.equals(reported.get(id))) {
                        log.warn("{}; the tenant is left out until its row is fixed:\n  {}", e.summary(),
                                String.join("\n  ", e.problems()));
                    }
                }
            }
        }
        reported.clear();
        reported.putAll(seen);
        if (!tenants.equals(applied)) {
            apply.accept(tenants);
            applied = tenants;
        }
        lastReadMillis = System.currentTimeMillis();
        loaded.reach();
    }

    private void terminate(String id) {
        try {
            terminate.accept(id);
        } catch (RuntimeException e) {
            log.error("terminating tenant \"{}\" failed", id, e);
        }
    }

    private void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    @Override
    public void close() {
        closed = true;
        loaded.abandon();
        registered.abandon();
        if (connection == null) {
            thread.interrupt(); // waiting to try again: nothing to clean up
        } // else the loop notices within a poll and takes this instance out of pgmux.instances first
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
