package dev.pgmux.proxy.pool;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The admin console's operations on pools, per database (a tenant's database: every user's pool of it) or
 * on all of them. A paused database stays paused for pools created later, until RESUME: pools come and go
 * with their clients, the pause belongs to the database.
 */
public final class PoolAdmin {
    /** A tenant's database, or every database when both are null. */
    public record Database(String tenant, String database) {
        public static final Database ALL = new Database(null, null);

        boolean matches(PoolKey key) {
            return tenant == null || (tenant.equals(key.tenant()) && database.equals(key.database()));
        }
    }

    private final PoolRegistry pools;
    private final Set<Database> paused = ConcurrentHashMap.newKeySet();

    PoolAdmin(PoolRegistry pools) {
        this.pools = pools;
    }

    /** Whether a new pool for this key starts paused. */
    boolean isPaused(PoolKey key) {
        return !paused.isEmpty()
                && (paused.contains(Database.ALL) || paused.contains(new Database(key.tenant(), key.database())));
    }

    /** Brings a pool in line with the pauses now in force (it may have been created while one changed). */
    void settle(ServerPool pool) {
        boolean wanted = isPaused(pool.key());
        if (wanted != pool.isPaused()) {
            if (wanted) {
                pool.pause();
            } else {
                pool.resume();
            }
        }
    }

    /** Whether the database (or, for {@link Database#ALL}, pgmux as a whole) is paused. */
    public boolean isPaused(Database database) {
        return paused.contains(Database.ALL) || paused.contains(database);
    }

    /** Whether this very database (or, for {@link Database#ALL}, pgmux as a whole) was paused, not just all. */
    public boolean isPausedOnItsOwn(Database database) {
        return paused.contains(database);
    }

    /** Whether any database at all is paused. */
    public boolean anyPaused() {
        return !paused.isEmpty();
    }

    /** PAUSE: checkouts wait, servers close as they are released (see {@link ServerPool#pause}). */
    public void pause(Database database) {
        paused.add(database);
        each(database, ServerPool::pause);
    }

    /** KILL: paused, and every server closed at once. */
    public void kill(Database database) {
        paused.add(database);
        each(database, ServerPool::kill);
    }

    /**
     * The tenant API's terminate: every server of the tenant's pools closed at once, busy or not, and nothing
     * paused, so that new logins open new servers (the clients are told by whoever terminates them).
     */
    public void terminate(String tenant) {
        for (ServerPool pool : pools.all()) {
            if (pool.key().tenant().equals(tenant)) {
                pool.closeEveryServer();
            }
        }
    }

    /**
     * RESUME: {@link Database#ALL} lifts every pause, a database its own (a database paused on its own
     * stays paused under a global RESUME only if it was paused again since; PgBouncer does the same).
     */
    public void resume(Database database) {
        if (database.equals(Database.ALL)) {
            paused.clear();
        } else {
            paused.remove(database);
        }
        each(database, pool -> {
            if (!isPaused(pool.key())) {
                pool.resume();
            }
        });
    }

    /** RECONNECT: every server open now closes once it is free. */
    public void reconnect(Database database) {
        each(database, ServerPool::reconnect);
    }

    /** Servers of the database not yet closing (a PAUSE waits for none). */
    public int serversNotClosing(Database database) {
        int count = 0;
        for (ServerPool pool : pools.all()) {
            count += database.matches(pool.key()) ? pool.serversNotClosing() : 0;
        }
        return count;
    }

    /** Servers of the database that RECONNECT (or a reload) marked and that have not closed yet. */
    public int closeNeeded(Database database) {
        int count = 0;
        for (ServerPool pool : pools.all()) {
            count += database.matches(pool.key()) ? pool.closeNeededCount() : 0;
        }
        return count;
    }

    private void each(Database database, Consumer<ServerPool> action) {
        for (ServerPool pool : pools.all()) {
            if (database.matches(pool.key())) {
                action.accept(pool);
            }
        }
    }
}
