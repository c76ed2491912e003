package dev.pgmux.proxy.cluster;

import dev.pgmux.config.MetadataUrl;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.pool.PoolRegistry;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.tenant.TenantRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a tenant's pool_size and max_clients limits of the whole cluster: every instance holds a lease on a
 * number of slots per pool (servers) and per tenant (clients) in pgmux.slot_leases, and uses no more than its
 * lease allows. The sum of the slots of all live leases never exceeds the limit. A lease lives while its
 * instance's row in pgmux.lease_holders is renewed (one row per instance, whatever the number of leases).
 *
 * <p>About five times a second (and at once when a pool's waiters want more than its lease), each instance, in
 * one transaction under one advisory lock that all instances share:
 * <ol>
 *   <li>renews its holder row to now + cluster.instance_timeout;
 *   <li>reads the other live instances' leases: their slots and what they want;
 *   <li>computes its fair share: the limit divided max-min fairly by what each live instance wants, then what
 *       is left over divided equally among all of them (so an idle cluster keeps headroom everywhere);
 *   <li>takes no more than the limit minus what the others hold: a slot passes from one instance to another
 *       only once the first has recorded it free;
 *   <li>lowers its own limit before recording a lower figure (idle servers close at once, busy ones when they
 *       come back), and raises it only after a higher figure is committed; only the rows that changed are
 *       written.
 * </ol>
 *
 * <p>A lease counts for the others until its holder row expires. So an instance that dies (SIGKILL) frees its
 * slots after the timeout, and one cut off from the metadata database keeps what it holds until its own
 * deadline (measured from the start of its last successful sync, less a margin, so always before the
 * database's expiry) and takes no new slots; at its deadline it closes all its servers and admits no client,
 * and /ready answers 503 until it has a lease again. A metadata database that is away for less than the
 * timeout changes nothing.
 */
public final class SlotLeases implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SlotLeases.class);

    static final String SERVERS = "servers";
    static final String CLIENTS = "clients";
    /** Held for the length of each sync, by every instance: syncs are short, and one lock cannot deadlock. */
    private static final long LEASE_LOCK = 0x70676d75786cL; // "pgmuxl"
    private static final Duration PERIOD = Duration.ofMillis(200);
    private static final Duration RETRY = Duration.ofSeconds(1);

    /** A leased resource: a pool's servers (tenant, database, user) or a tenant's clients (tenant only). */
    record Key(String kind, String tenant, String database, String user) {
        static Key servers(PoolKey pool) {
            return new Key(SERVERS, pool.tenant(), pool.database(), pool.user());
        }

        static Key clients(String tenant) {
            return new Key(CLIENTS, tenant, "", "");
        }
    }

    /** Another instance's live lease on a key. */
    record Held(String instanceId, int slots, int wanted) {}

    /** This instance's side of a key at the start of a sync. */
    private record Local(Key key, int capacity, int wanted, int limit, Lowerable lower, Raisable raise) {}

    @FunctionalInterface
    private interface Lowerable {
        /** Sets a lower limit; returns what is held now. */
        int lower(int limit);
    }

    @FunctionalInterface
    private interface Raisable {
        void raise(int limit);
    }

    private final MetadataUrl url;
    private final String instanceId;
    private final Duration timeout;
    private final PoolRegistry pools;
    private final TenantRegistry tenants;
    private final Thread thread;
    private final ScheduledExecutorService watchdog;
    private final Object wake = new Object();
    private boolean woken;
    private volatile boolean closed;
    /** Until when (System.nanoTime) this instance's leases hold; meaningful while {@link #valid}. */
    private volatile long deadlineNanos;
    private volatile boolean valid;
    private final Milestone firstSync = new Milestone();
    /** What this instance's rows hold now, by key (none: nothing held or wanted); only changes are written. */
    private final Map<Key, Recorded> written = new HashMap<>();
    /** Whether a sync has succeeded on the connection in use (a new one rewrites every row). */
    private boolean connectionSynced;
    private final List<Waiting> waiting = new ArrayList<>();
    private final AtomicLong syncs = new AtomicLong();
    private long nextHousekeeping;
    private boolean unreachableLogged;

    private record Waiting(Runnable then, long untilNanos) {}

    public SlotLeases(MetadataUrl url, String instanceId, Duration timeout, PoolRegistry pools, TenantRegistry tenants) {
        this.url = url;
        this.instanceId = instanceId;
        this.timeout = timeout;
        this.pools = pools;
        this.tenants = tenants;
        this.thread = Thread.ofPlatform().daemon().name("pgmux-leases").unstarted(this::run);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("pgmux-lease-watchdog").unstarted(r));
    }

    /**
     * From now on every pool and tenant is limited by its lease: those that exist now admit nothing more until
     * the first sync, new ones likewise. Then syncs start.
     */
    public void start() {
        tenants.leased();
        for (Tenant tenant : tenants.all()) {
            tenant.clusterClientLimit(0);
        }
        pools.leased(this::wakeUp);
        for (ServerPool pool : pools.all()) {
            pool.lowerClusterLimit(0);
            pool.onShortOfSlots(this::wakeUp);
        }
        thread.start();
        watchdog.scheduleWithFixedDelay(this::watch, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** Waits for the first sync, at most {@code max}: false if none succeeded in time. */
    public boolean awaitValid(Duration max) throws InterruptedException {
        return firstSync.await(max) && valid;
    }

    /** Whether this instance holds live leases now (/ready answers 503 otherwise). */
    public boolean valid() {
        return valid;
    }

    /** Successful syncs so far. */
    public long syncs() {
        return syncs.get();
    }

    /** Asks for a sync now: something wants more slots than its lease gives. */
    public void wakeUp() {
        synchronized (wake) {
            woken = true;
            wake.notifyAll();
        }
    }

    /**
     * Runs {@code then} after the next sync (successful or not), or after {@code max} at the latest, on a thread
     * of the leases': a login that found its tenant at its share of max_clients tries once more then.
     */
    public void afterNextSync(Runnable then, Duration max) {
        synchronized (waiting) {
            waiting.add(new Waiting(then, System.nanoTime() + max.toNanos()));
        }
        wakeUp();
    }

    private void run() {
        while (!closed) {
            try (Connection c = MetadataConnections.open(url, "pgmux leases", 10)) {
                if (unreachableLogged) {
                    log.info("leases: metadata database {} reachable again", url);
                    unreachableLogged = false;
                }
                c.setAutoCommit(false);
                connectionSynced = false;
                while (!closed) {
                    sync(c);
                    runWaiting(false);
                    pause();
                }
            } catch (SQLException | RuntimeException e) {
                runWaiting(false);
                if (closed) {
                    return;
                }
                if (!unreachableLogged) {
                    log.warn("leases: metadata database {}: {}; the slots held stay in force until {} after the last "
                            + "renewal, trying again", url, e.getMessage(), timeout);
                    unreachableLogged = true;
                }
                sleep(RETRY);
            }
        }
    }

    /** Until the next period, or until woken. */
    private void pause() {
        synchronized (wake) {
            if (!woken) {
                try {
                    wake.wait(PERIOD.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    closed = true;
                }
            }
            woken = false;
        }
    }

    private void sync(Connection c) throws SQLException {
        long started = System.nanoTime();
        List<Local> locals = locals();
        try {
            try (Statement st = c.createStatement()) {
                st.execute("SELECT pg_advisory_xact_lock(" + LEASE_LOCK + ")");
            }
            if (!valid || !connectionSynced) {
                // Renewing the holder brings this instance's rows back to life: rewrite every one of them in
                // this same transaction, from what is held now, before anyone can read them.
                written.clear();
                try (PreparedStatement st = c.prepareStatement("DELETE FROM " + MetadataStore.SCHEMA + ".slot_leases "
                        + "WHERE instance_id = ?")) {
                    st.setString(1, instanceId);
                    st.executeUpdate();
                }
            }
            try (PreparedStatement st = c.prepareStatement("INSERT INTO " + MetadataStore.SCHEMA + ".lease_holders "
                    + "(instance_id, expires_at) VALUES (?, now() + make_interval(secs => ?)) "
                    + "ON CONFLICT (instance_id) DO UPDATE SET expires_at = excluded.expires_at")) {
                st.setString(1, instanceId);
                st.setDouble(2, timeout.toMillis() / 1000.0);
                st.executeUpdate();
            }
            Others others = others(c);
            List<Runnable> raises = new ArrayList<>();
            Map<Key, Recorded> now = new HashMap<>();
            try (PreparedStatement upsert = c.prepareStatement("INSERT INTO " + MetadataStore.SCHEMA + ".slot_leases "
                    + "(kind, tenant, database, username, instance_id, slots, wanted) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (kind, tenant, database, username, instance_id) DO UPDATE "
                    + "SET slots = excluded.slots, wanted = excluded.wanted");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM " + MetadataStore.SCHEMA + ".slot_leases "
                         + "WHERE kind = ? AND tenant = ? AND database = ? AND username = ? AND instance_id = ?")) {
                for (Local local : locals) {
                    List<Held> held = others.of(local.key());
                    int share = share(local.capacity(), instanceId, local.wanted(), held);
                    int othersHold = held.stream().mapToInt(Held::slots).sum();
                    int limit = Math.max(0, Math.min(share, local.capacity() - othersHold));
                    int record;
                    if (limit <= local.limit()) {
                        // What is held counts until it is gone, even beyond the limit (a lower limit takes
                        // nothing away at once, and after a lost lease servers may still be closing).
                        record = Math.max(limit, local.lower().lower(limit));
                    } else { // the higher limit applies only once recorded
                        record = Math.max(limit, local.lower().lower(local.limit()));
                        raises.add(() -> local.raise().raise(limit));
                    }
                    now.put(local.key(), new Recorded(record, local.wanted()));
                }
                for (Key gone : written.keySet()) {
                    now.putIfAbsent(gone, Recorded.NOTHING); // no longer used here: nothing held
                }
                // Only what changed is written: an instance whose clients come and go within its share writes
                // nothing but its holder row.
                for (Map.Entry<Key, Recorded> entry : now.entrySet()) {
                    Recorded value = entry.getValue();
                    if (value.equals(written.getOrDefault(entry.getKey(), Recorded.NOTHING))) {
                        continue;
                    }
                    if (value.equals(Recorded.NOTHING)) {
                        bind(delete, entry.getKey());
                        delete.addBatch();
                    } else {
                        bind(upsert, entry.getKey());
                        upsert.setInt(6, value.slots());
                        upsert.setInt(7, value.wanted());
                        upsert.addBatch();
                    }
                }
                upsert.executeBatch();
                delete.executeBatch();
            }
            housekeeping(c);
            c.commit();
            connectionSynced = true;
            written.clear();
            now.forEach((key, value) -> {
                if (!value.equals(Recorded.NOTHING)) {
                    written.put(key, value);
                }
            });
            // A little before the database's expiry (which counts from the transaction's start, later than
            // this), so that the watchdog gives everything up before another instance may take it.
            deadlineNanos = started + timeout.toNanos() - safetyMargin().toNanos();
            syncs.incrementAndGet();
            if (!valid) {
                valid = true;
                firstSync.reach();
                log.info("leases: instance {} holds its share of every tenant's pool_size and max_clients", instanceId);
            }
            raises.forEach(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is going; the error that broke it is the one reported
            }
            throw e;
        }
    }

    /** A tenth of the timeout, at most a second: the watchdog's period and a clock's drift fit in it. */
    private Duration safetyMargin() {
        Duration tenth = timeout.dividedBy(10);
        return tenth.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : tenth;
    }

    /** A lease's figures as this instance last wrote them. */
    private record Recorded(int slots, int wanted) {
        static final Recorded NOTHING = new Recorded(0, 0);
    }

    private void bind(PreparedStatement st, Key key) throws SQLException {
        st.setString(1, key.kind());
        st.setString(2, key.tenant());
        st.setString(3, key.database());
        st.setString(4, key.user());
        st.setString(5, instanceId);
    }

    /** The pools and tenants of this instance, as they are at the start of a sync. */
    private List<Local> locals() {
        List<Local> locals = new ArrayList<>();
        for (ServerPool pool : pools.all()) {
            ServerPool.LeaseDemand demand = pool.leaseDemand();
            locals.add(new Local(Key.servers(pool.key()), demand.capacity(), demand.wanted(), pool.clusterLimit(),
                    pool::lowerClusterLimit, pool::raiseClusterLimit));
        }
        for (Tenant tenant : tenants.all()) {
            int capacity = tenant.config().maxClients();
            // What nobody wants is split equally, so logins find room without a sync until the tenant is near its
            // max_clients; there, waiting logins ask for their slots.
            int wanted = Math.min(capacity, tenant.clientSlotsWanted());
            locals.add(new Local(Key.clients(tenant.id()), capacity, wanted, tenant.clusterClientLimit(),
                    tenant::clusterClientLimit, tenant::clusterClientLimit));
        }
        return locals;
    }

    /**
     * The other instances' live leases: every live holder counts for every key, with what it wrote for the key
     * or nothing (it wants none and holds none), so that what nobody wants is divided among all of them.
     */
    private record Others(List<String> holders, Map<Key, Map<String, Held>> rows) {
        List<Held> of(Key key) {
            Map<String, Held> written = rows.getOrDefault(key, Map.of());
            List<Held> held = new ArrayList<>(holders.size());
            for (String holder : holders) {
                held.add(written.getOrDefault(holder, new Held(holder, 0, 0)));
            }
            return held;
        }
    }

    private Others others(Connection c) throws SQLException {
        List<String> holders = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement("SELECT instance_id FROM " + MetadataStore.SCHEMA
                + ".lease_holders WHERE instance_id <> ? AND expires_at > now()")) {
            st.setString(1, instanceId);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    holders.add(rs.getString(1));
                }
            }
        }
        Map<Key, Map<String, Held>> rows = new HashMap<>();
        try (PreparedStatement st = c.prepareStatement("SELECT l.kind, l.tenant, l.database, l.username, l.instance_id, "
                + "l.slots, l.wanted FROM " + MetadataStore.SCHEMA + ".slot_leases l JOIN " + MetadataStore.SCHEMA
                + ".lease_holders h USING (instance_id) WHERE l.instance_id <> ? AND h.expires_at > now()")) {
            st.setString(1, instanceId);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    Key key = new Key(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4));
                    rows.computeIfAbsent(key, k -> new HashMap<>())
                            .put(rs.getString(5), new Held(rs.getString(5), rs.getInt(6), rs.getInt(7)));
                }
            }
        }
        return new Others(holders, rows);
    }

    /** Every few seconds: leases expired for long (instances gone) are deleted. */
    private void housekeeping(Connection c) throws SQLException {
        long now = System.nanoTime();
        if (now - nextHousekeeping < 0) {
            return;
        }
        nextHousekeeping = now + Duration.ofSeconds(10).toNanos();
        try (PreparedStatement st = c.prepareStatement("DELETE FROM " + MetadataStore.SCHEMA + ".lease_holders "
                + "WHERE expires_at < now() - make_interval(secs => ?)")) { // their leases go with them
            st.setDouble(1, timeout.toMillis() / 100.0); // ten timeouts
            st.executeUpdate();
        }
    }

    /**
     * This instance's fair share of {@code capacity}: max-min fair by what each live instance wants (whoever
     * wants less than an equal part gets what it wants; the rest is split among the others), then what nobody
     * wants split equally. Ties and remainders go by instance id, so every instance computes the same division.
     */
    static int share(int capacity, String me, int myWanted, List<Held> others) {
        List<Held> all = new ArrayList<>(others);
        all.add(new Held(me, 0, myWanted));
        all.sort(Comparator.comparingInt(Held::wanted).thenComparing(Held::instanceId));
        Map<String, Integer> shares = new HashMap<>();
        int left = capacity;
        for (int i = 0; i < all.size(); i++) {
            Held h = all.get(i);
            int share = Math.min(Math.max(0, h.wanted()), left / (all.size() - i));
            shares.put(h.instanceId(), share);
            left -= share;
        }
        all.sort(Comparator.comparing(Held::instanceId));
        int each = left / all.size();
        int extra = left % all.size();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).instanceId().equals(me)) {
                return shares.get(me) + each + (i < extra ? 1 : 0);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** Every 100 ms: a lease past its deadline is given up; logins waiting too long go on. */
    private void watch() {
        try {
            if (valid && System.nanoTime() - deadlineNanos > 0) {
                valid = false;
                log.warn("leases: not renewed within {} (the metadata database is unreachable): closing every server "
                        + "and admitting no client until they are", timeout);
                for (ServerPool pool : pools.all()) {
                    pool.leaseLost();
                }
                for (Tenant tenant : tenants.all()) {
                    tenant.clusterClientLimit(0);
                }
            }
            runWaiting(true);
        } catch (RuntimeException e) {
            log.error("leases: watchdog failed", e);
        }
    }

    /** Runs the waiting callbacks: all of them after a sync, the overdue ones otherwise. */
    private void runWaiting(boolean overdueOnly) {
        List<Runnable> due = new ArrayList<>();
        long now = System.nanoTime();
        synchronized (waiting) {
            waiting.removeIf(w -> {
                if (!overdueOnly || now - w.untilNanos() >= 0) {
                    due.add(w.then());
                    return true;
                }
                return false;
            });
        }
        due.forEach(Runnable::run);
    }

    private void sleep(Duration duration) {
        synchronized (wake) {
            try {
                long until = System.nanoTime() + duration.toNanos();
                while (!closed && System.nanoTime() - until < 0) {
                    wake.wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closed = true;
            }
        }
    }

    /** Stops syncing and takes this instance's leases out, so that the others may use its slots at once. */
    @Override
    public void close() {
        closed = true;
        firstSync.abandon();
        wakeUp();
        watchdog.shutdownNow();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runWaiting(false);
        try (Connection c = MetadataConnections.open(url, "pgmux leases", 5);
             PreparedStatement st = c.prepareStatement("DELETE FROM " + MetadataStore.SCHEMA + ".lease_holders "
                     + "WHERE instance_id = ?")) { // and its leases with it
            st.setString(1, instanceId);
            st.executeUpdate();
        } catch (SQLException e) {
            log.debug("leases: could not take this instance's leases out ({}); they expire after {}", e.getMessage(), timeout);
        }
    }
}
