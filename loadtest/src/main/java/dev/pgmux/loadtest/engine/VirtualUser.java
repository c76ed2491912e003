package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.Param;
import dev.pgmux.loadtest.dsl.Session;
import dev.pgmux.loadtest.dsl.Step;
import dev.pgmux.loadtest.stats.ErrorKey;
import dev.pgmux.loadtest.stats.RequestKind;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One virtual user: runs its scenario's steps on its own virtual thread, with real pgjdbc calls.
 *
 * <p>Timing avoids coordinated omission: the user keeps the <em>intended</em> start of its next request. For
 * an open-model user the first one is the instant the schedule gave it; after a request it is that request's
 * end, plus any pause. Each request's latency is measured from its intended start, so when the system under
 * test stalls, the time users spent unable even to send their request is counted, not hidden.
 */
final class VirtualUser implements Runnable {
    private static final long CONNECT_FAILURE_BACKOFF_NANOS = 100_000_000;

    private final UserGroup group;
    private final RunControl control;
    private final Session session;
    private final long scheduledStart;
    private final boolean open;
    private Connection connection;
    private long intended;
    private int transactionDepth;
    private ErrorKey lastError;

    VirtualUser(long id, UserGroup group, RunControl control, long scheduledStart, boolean open) {
        this.group = group;
        this.control = control;
        this.session = new Session(id, group.population.scenario().name());
        this.scheduledStart = scheduledStart;
        this.open = open;
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        if (open) {
            control.recordStartLag(now - scheduledStart);
            intended = scheduledStart;
        } else {
            intended = now;
        }
        boolean interrupted = false;
        try {
            steps(group.population.scenario().steps());
        } catch (Stop stop) {
            interrupted = stop == Stop.DEADLINE;
            if (stop == Stop.CONNECT_FAILED && !open && !control.injectionEnded()) {
                backOff(); // a closed model would otherwise replace this user at once, in a hot loop
            }
        } finally {
            if (connection != null) {
                group.source.release(connection);
                connection = null;
            }
            control.userFinished(group, interrupted || control.hardStopped());
        }
    }

    private void steps(List<Step> steps) throws Stop {
        for (Step step : steps) {
            if (control.hardStopped()) {
                throw Stop.DEADLINE;
            }
            step(step);
        }
    }

    private void step(Step step) throws Stop {
        switch (step) {
            case Step.Connect c -> connect();
            case Step.Disconnect d -> {
                if (connection != null) {
                    group.source.release(connection);
                    connection = null;
                }
            }
            case Step.Query q -> timed(q.name(), RequestKind.QUERY, () -> query(q));
            case Step.Prepared p -> timed(p.name(), RequestKind.QUERY, () -> prepared(p));
            case Step.Transaction t -> transaction(t);
            case Step.Pause p -> pause(p);
            case Step.Repeat r -> {
                for (int i = 0; i < r.times(); i++) {
                    if (r.counter() != null) {
                        session.set(r.counter(), i);
                    }
                    steps(r.steps());
                }
            }
            case Step.During d -> {
                long end = System.nanoTime() + d.duration().toNanos();
                while (System.nanoTime() < end) {
                    steps(d.steps());
                }
            }
            case Step.Forever f -> {
                while (!control.injectionEnded()) {
                    steps(f.steps());
                }
            }
            case Step.Feed f -> feed(f);
            case Step.RandomSwitch r -> step(r.pick(ThreadLocalRandom.current().nextDouble()));
            case Step.Exec e -> timed(e.name(), RequestKind.CUSTOM, () -> e.action().run(connection, session));
            case Step.Act a -> a.action().accept(session);
        }
    }

    /**
     * When a request is due, for the warm-up cut: an open-model user's requests all belong to its arrival
     * (a user who arrived in the warm-up is warm-up traffic, however late its requests ran); a closed-model
     * user's each to its own intended start.
     */
    private long due(long requestStart) {
        return open ? scheduledStart : requestStart;
    }

    private void connect() throws Stop {
        if (connection != null) {
            group.source.release(connection);
            connection = null;
        }
        boolean ok = timed(Step.CONNECT, RequestKind.CONNECT, () -> connection = group.source.open(session.userId()));
        if (!ok) {
            throw Stop.CONNECT_FAILED;
        }
    }

    private void feed(Step.Feed f) throws Stop {
        try {
            session.setAll(f.feeder().next());
        } catch (NoSuchElementException e) {
            long now = System.nanoTime();
            control.stats.record("feed", RequestKind.CUSTOM, now, now, new ErrorKey(null, e.getMessage() == null
                    ? "feeder exhausted" : e.getMessage()), due(now));
            throw Stop.FAILED;
        }
    }

    /**
     * Runs one request and records it, from its intended start to now. Returns whether it succeeded; a
     * failure inside a transaction aborts the transaction, a lost connection ends the user.
     */
    private boolean timed(String name, RequestKind kind, Call call) throws Stop {
        long start = intended;
        Throwable failure = null;
        try {
            call.run();
        } catch (SQLException | RuntimeException e) {
            failure = e;
        }
        long end = System.nanoTime();
        intended = end;
        if (control.hardStopped()) {
            throw Stop.DEADLINE; // cut short by the deadline: not a measurement
        }
        ErrorKey error = failure == null ? null : SqlErrors.key(failure);
        control.stats.record(name, kind, start, end, error, due(start));
        if (failure == null) {
            return true;
        }
        lastError = error;
        if (kind != RequestKind.CONNECT && connection != null && SqlErrors.connectionLost(failure, connection)) {
            group.source.release(connection);
            connection = null;
            throw Stop.FAILED;
        }
        if (transactionDepth > 0) {
            throw new TransactionFailed(error);
        }
        return false;
    }

    private void transaction(Step.Transaction t) throws Stop {
        long start = intended;
        ErrorKey error = null;
        transactionDepth++;
        try {
            Connection c = requireConnection();
            c.setAutoCommit(false); // pgjdbc sends BEGIN together with the first statement: no extra round trip
            try {
                steps(t.steps());
                c.commit();
            } catch (TransactionFailed f) {
                error = f.key;
                rollback(c);
            } catch (SQLException e) {
                error = SqlErrors.key(e);
                rollback(c);
            }
            if (connection != null) {
                connection.setAutoCommit(true);
            }
        } catch (Stop stop) {
            if (stop != Stop.DEADLINE && !control.hardStopped()) {
                control.stats.record(t.name(), RequestKind.TRANSACTION, start, System.nanoTime(), lastError, due(start));
            }
            throw stop;
        } catch (SQLException e) {
            error = error != null ? error : SqlErrors.key(e);
        } finally {
            transactionDepth--;
        }
        long end = System.nanoTime();
        intended = end;
        if (control.hardStopped()) {
            throw Stop.DEADLINE;
        }
        control.stats.record(t.name(), RequestKind.TRANSACTION, start, end, error, due(start));
        if (error != null && !usable()) {
            throw Stop.FAILED;
        }
    }

    /** Whether the user still has an open connection; a broken one is given back. */
    private boolean usable() {
        try {
            if (connection != null && !connection.isClosed()) {
                return true;
            }
        } catch (SQLException e) {
            // treated as closed
        }
        if (connection != null) {
            group.source.release(connection);
            connection = null;
        }
        return false;
    }

    private void pause(Step.Pause p) throws Stop {
        long min = p.min().toNanos();
        long max = p.max().toNanos();
        long nanos = max > min ? ThreadLocalRandom.current().nextLong(min, max + 1) : min;
        intended += nanos;
        long wait = intended - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(java.time.Duration.ofNanos(wait));
            } catch (InterruptedException e) {
                throw Stop.DEADLINE;
            }
        }
    }

    private void backOff() {
        try {
            Thread.sleep(java.time.Duration.ofNanos(CONNECT_FAILURE_BACKOFF_NANOS));
        } catch (InterruptedException ignored) {
            // stopping anyway
        }
    }

    private void query(Step.Query q) throws SQLException {
        try (Statement st = requireConnection().createStatement()) {
            keep(q.saveAs(), consume(st, st.execute(q.sql())));
        }
    }

    private void prepared(Step.Prepared p) throws SQLException {
        try (PreparedStatement ps = requireConnection().prepareStatement(p.sql())) {
            List<Param> params = p.params();
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i).value(session));
            }
            keep(p.saveAs(), consume(ps, ps.execute()));
        }
    }

    private void keep(String attribute, Object value) {
        if (attribute != null) {
            session.set(attribute, value);
        }
    }

    /** Reads every result (rows are fetched, as an application would); returns the first column of the first row. */
    private static Object consume(Statement st, boolean isResultSet) throws SQLException {
        Object first = null;
        boolean haveFirst = false;
        while (true) {
            if (isResultSet) {
                try (ResultSet rs = st.getResultSet()) {
                    while (rs.next()) {
                        if (!haveFirst) {
                            first = rs.getObject(1);
                            haveFirst = true;
                        }
                    }
                }
            } else if (st.getUpdateCount() == -1) {
                return first;
            }
            isResultSet = st.getMoreResults();
        }
    }

    private Connection requireConnection() throws SQLException {
        if (connection == null) {
            throw new SQLException("not connected: the scenario needs a connect step before this one", "08003");
        }
        return connection;
    }

    private static void rollback(Connection c) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // the transaction is over either way
        }
    }

    @FunctionalInterface
    private interface Call {
        void run() throws SQLException;
    }

    /** Ends the user's scenario early. */
    private static final class Stop extends Exception {
        static final Stop DEADLINE = new Stop("deadline");
        static final Stop CONNECT_FAILED = new Stop("connect failed");
        static final Stop FAILED = new Stop("failed");

        private Stop(String why) {
            super(why, null, false, false);
        }
    }

    /** A step inside a transaction failed: unwind to the transaction, which rolls back. */
    private static final class TransactionFailed extends RuntimeException {
        final ErrorKey key;

        TransactionFailed(ErrorKey key) {
            super(key.message(), null, false, false);
            this.key = key;
        }
    }
}
