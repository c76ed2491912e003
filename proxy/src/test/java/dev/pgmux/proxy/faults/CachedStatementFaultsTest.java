package dev.pgmux.proxy.faults;

import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.BOUND;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.ROLE;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.TEXTS;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.admin;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.assertEndedWithError;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.bytes;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.check;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.checkAll;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.columns;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.connect;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.connectionLost;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.createTable;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.errors;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.exchange;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.login;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.rows;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.serverPids;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.statementEvents;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.tags;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.terminate;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.textAt;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.unit;
import static dev.pgmux.proxy.faults.CachedStatementFaultsSupport.waitsForLock;
import static dev.pgmux.proxy.testing.Pgjdbc.backendAlive;
import static dev.pgmux.proxy.testing.Pgjdbc.superuserCount;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.config.UnnamedStatementPlans;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.model.Op;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.testing.BackendMessage;
import dev.pgmux.proxy.testing.PgmuxHarness;
import dev.pgmux.proxy.testing.Port;
import dev.pgmux.proxy.testing.TestPostgres;
import dev.pgmux.proxy.testing.Wait;
import dev.pgmux.proxy.testing.WireClient;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults that meet the unnamed statement served from shared statements ({@code cache_unnamed_statements} on):
 * backends terminated under pgjdbc load, a backend terminated while pgmux holds a Parse's ParseComplete back,
 * clients that vanish in the middle of such a unit, and a unit sent again after DDL (0A000) that meets a
 * termination or a client leaving. On the session port nothing is cached, and the same faults must end the
 * same way for the client. The exact windows are made with a raw client on a pool of one server (whose pid a
 * query of an earlier unit tells) and, where the server must be caught mid-message, table or advisory locks
 * held by the superuser, which the backend is seen waiting for.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CachedStatementFaultsTest {
    private static final int CLIENTS = 6;
    private static final int SHARED_SERVERS = 3;
    private static final int TERMINATIONS = 4;
    /** Short: a pool that lost its only server's slot shows as a checkout timeout, not as a hang. */
    private static final Duration CHECKOUT_TIMEOUT = Duration.ofSeconds(5);

    private static String table(Port port, String what) {
        return "cached_faults_" + what + "_" + port.name().toLowerCase(Locale.ROOT);
    }

    /** The statement the raw clients use: its result type follows the table's columns. */
    private static String select(String table) {
        return "SELECT * FROM " + table + " WHERE k = $1";
    }

    // --- 1. pg_terminate_backend under load ---

    /**
     * pgjdbc clients run the texts in a loop while backends are terminated one at a time: a client using the
     * terminated backend gets an error of a lost connection (and connects again), no other client notices,
     * every result stays right, and afterwards the pool serves all its clients again.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void terminatedBackendsFailOnlyTheirOwnClients(Port port) throws Exception {
        for (UnnamedStatementPlans plans : UnnamedStatementPlans.values()) {
            terminationsUnderLoad(port, plans);
        }
    }

    private void terminationsUnderLoad(Port port, UnnamedStatementPlans plans) throws Exception {
        String table = table(port, "load");
        createTable(table);
        int poolSize = port == Port.SESSION ? CLIENTS : SHARED_SERVERS;
        String as = port + " port, " + plans.configName() + " plans";
        try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(poolSize, plans, Duration.ofSeconds(15))) {
            AtomicBoolean stop = new AtomicBoolean();
            List<Looper> loopers = new ArrayList<>();
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Looper looper = new Looper(i, pgmux, port, table, stop);
                loopers.add(looper);
                running.add(CompletableFuture.runAsync(looper::run, runnable -> Thread.ofVirtual().start(runnable)));
            }
            try {
                Wait.until("every client ran every text (" + as + ")", Duration.ofSeconds(60),
                        () -> progressed(loopers, running, new long[CLIENTS], TEXTS), () -> describe(loopers));
                double hitsBefore = statementEvents(pgmux, "hit");
                ServerPool pool = pgmux.pool(ROLE).orElseThrow();
                for (int round = 1; round <= TERMINATIONS; round++) {
                    // A server a client holds, where there is one (on the session port, always).
                    List<Integer> candidates = new ArrayList<>();
                    Wait.until("a server to terminate", BOUND, () -> {
                        candidates.clear();
                        candidates.addAll(serverPids(pool, true));
                        if (candidates.isEmpty() && port == Port.TRANSACTION) {
                            candidates.addAll(serverPids(pool, false));
                        }
                        return !candidates.isEmpty();
                    }, pgmux::describePools);
                    int victim = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
                    long[] before = loopers.stream().mapToLong(l -> l.ok.get()).toArray();
                    terminate(victim);
                    int expectedErrors = round;
                    Wait.until("every client runs statements again after termination " + round + " (" + as + ")",
                            Duration.ofSeconds(30), () -> progressed(loopers, running, before, 1)
                                    && (port == Port.TRANSACTION || errorCount(loopers) >= expectedErrors)
                                    && !serverPids(pool, false).contains(victim),
                            () -> describe(loopers) + "; " + pgmux.describePools());
                    assertThat(errorCount(loopers)).as("clients that heard of %d terminations (%s): %s", round, as,
                            describe(loopers)).isBetween(port == Port.SESSION ? round : 0, round);
                }
                stop.set(true);
                for (CompletableFuture<Void> client : running) {
                    client.get(60, TimeUnit.SECONDS);
                }
                for (Looper looper : loopers) {
                    for (String error : looper.errors) {
                        assertThat(connectionLost(error.substring(0, 5)))
                                .as("error of client %d (%s): %s", looper.id, as, error).isTrue();
                    }
                }
                if (port == Port.TRANSACTION) {
                    assertThat(statementEvents(pgmux, "hit"))
                            .as("parses served from shared statements during the terminations").isGreaterThan(hitsBefore);
                } else {
                    assertThat(statementEvents(pgmux, "hit"))
                            .as("the session port never serves from shared statements").isZero();
                }
            } finally {
                stop.set(true);
                CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).exceptionally(t -> null)
                        .get(60, TimeUnit.SECONDS);
            }
            // Every client gone: no server counted in use, none beyond the pool's size; then a new client
            // gets every text right.
            Wait.until("no server in use once the clients left (" + as + ")", BOUND, () -> {
                ServerPool.Stats s = pgmux.stats(ROLE);
                return s.active() == 0 && s.connecting() == 0 && s.closing() == 0;
            }, pgmux::describePools);
            assertThat(pgmux.stats(ROLE).open()).as("%s", pgmux.describePools()).isBetween(0, poolSize);
            try (Connection next = connect(pgmux, port)) {
                checkAll(next, table, 7000);
            }
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
    }

    /** Whether every client ran {@code more} statements since {@code before}; a client that stopped fails. */
    private static boolean progressed(List<Looper> loopers, List<CompletableFuture<Void>> running, long[] before, long more)
            throws InterruptedException {
        for (int i = 0; i < loopers.size(); i++) {
            if (running.get(i).isDone()) {
                try {
                    running.get(i).get();
                } catch (ExecutionException e) {
                    throw new AssertionError("client " + i + " failed", e.getCause());
                }
                throw new AssertionError("client " + i + " stopped early");
            }
        }
        for (int i = 0; i < loopers.size(); i++) {
            if (loopers.get(i).ok.get() < before[i] + more) {
                return false;
            }
        }
        return true;
    }

    private static int errorCount(List<Looper> loopers) {
        return loopers.stream().mapToInt(l -> l.errors.size()).sum();
    }

    private static String describe(List<Looper> loopers) {
        return loopers.stream().map(l -> l.id + ": " + l.ok.get() + " ok, errors " + l.errors).toList().toString();
    }

    /** A pgjdbc client running the texts until told to stop; after an error it connects again. */
    private static final class Looper {
        final int id;
        final AtomicLong ok = new AtomicLong();
        final List<String> errors = new CopyOnWriteArrayList<>();
        private final PgmuxHarness pgmux;
        private final Port port;
        private final String table;
        private final AtomicBoolean stop;

        Looper(int id, PgmuxHarness pgmux, Port port, String table, AtomicBoolean stop) {
            this.id = id;
            this.pgmux = pgmux;
            this.port = port;
            this.table = table;
            this.stop = stop;
        }

        void run() {
            Connection c = null;
            try {
                c = connect(pgmux, port);
                for (int i = 0; !stop.get(); i++) {
                    try {
                        check(c, table, textAt(id, i), i * 13 + id);
                        ok.incrementAndGet();
                    } catch (SQLException e) {
                        errors.add(e.getSQLState() + " " + e.getMessage());
                        c.close();
                        c = connect(pgmux, port);
                    }
                }
                // After the faults, on the connection it has now: every text right.
                checkAll(c, table, 5000 + 100 * id);
            } catch (SQLException e) {
                throw new AssertionError("client " + id + ": " + e.getSQLState() + " " + e.getMessage(), e);
            } finally {
                if (c != null) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // already broken
                    }
                }
            }
        }
    }

    // --- 2. the held-back Parse, its server terminated ---

    /**
     * A raw client on a pool of one server that holds the statement (run twice: on the transaction port the
     * second Parse is answered by pgmux). Its backend is terminated (a) after Parse and Flush, (b) after a
     * Parse alone, which pgmux holds back, and (c) while the first use's Bind waits for a table lock, with
     * the ParseComplete still held back. Each time the client gets one error of a lost connection and the
     * end of its connection within the bound, and the next client is served right at once.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void serverTerminatedWhileAParseIsHeldBack(Port port) throws Exception {
        String table = table(port, "held");
        String select = select(table);
        for (UnnamedStatementPlans plans : UnnamedStatementPlans.values()) {
            String as = port + " port, " + plans.configName() + " plans";
            createTable(table);
            try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(1, plans, CHECKOUT_TIMEOUT)) {
                // (a) Parse and Flush: the ParseComplete comes, then the server dies before the Bind.
                try (Primed c = Primed.open(pgmux, port, select)) {
                    c.client.send(bytes(Op.parse("", select), Op.flush()));
                    BackendMessage first = c.client.readMessage();
                    assertThat(first.tag()).as("the answer to Parse and Flush (%s): %s", as, first).isEqualTo('1');
                    terminate(c.pid);
                    sendIfStillOpen(c.client, Op.bind("", "", "1"), Op.describePortal(""), Op.execute(), Op.sync());
                    assertEndedWithError(c.client, "Parse, Flush, termination, then Bind (" + as + ")");
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (b) A Parse alone: pgmux holds its ParseComplete back; the server dies meanwhile.
                try (Primed c = Primed.open(pgmux, port, select)) {
                    c.client.send(bytes(Op.parse("", select)));
                    c.awaitParseTaken(pgmux);
                    terminate(c.pid);
                    List<BackendMessage> got = assertEndedWithError(c.client, "a Parse alone, then termination (" + as + ")");
                    assertThat(tags(got)).as("what came after a Parse alone (%s)", as).doesNotContain("BindComplete");
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (c) The whole unit, its first use blocked by a lock; the server dies with the Parse unanswered.
                try (Primed c = Primed.open(pgmux, port, select);
                     Connection locker = TestPostgres.get().superuser()) {
                    lock(locker, table);
                    c.client.send(bytes(unit(select, "1")));
                    Wait.until("the client's backend waits for the lock (" + as + ")", BOUND, () -> waitsForLock(c.pid));
                    terminate(c.pid);
                    List<BackendMessage> got = assertEndedWithError(c.client, "a unit waiting for a lock, then termination (" + as + ")");
                    assertThat(tags(got)).as("what came of the unit (%s)", as).doesNotContain("BindComplete", "RowDescription");
                    if (got.getFirst().tag() == '1') {
                        assertThat(tags(got)).as("a ParseComplete, then the error (%s)", as)
                                .containsExactly("ParseComplete", "ErrorResponse");
                    }
                    locker.rollback();
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));
            } finally {
                admin("DROP TABLE IF EXISTS " + table);
            }
        }
    }

    /**
     * What Postgres sends before a terminated backend ends reaches the client, as on a direct connection. A
     * Parse alone, then pg_terminate_backend: the session port's server parsed it and sends its buffered
     * ParseComplete with its FATAL 57P01, which the client must get, in that order; on the transaction port
     * pgmux held the Parse back and the server's FATAL 57P01 must reach the client (a ParseComplete before it
     * is what a direct server would send too). Repeated with new clients, which land on both event loops while
     * the pool's one server stays on one of them, so that the client and its server are sometimes on different
     * loops.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void theTerminatedServersLastMessagesReachTheClient(Port port) throws Exception {
        String table = table(port, "last_words");
        String select = select(table);
        createTable(table);
        List<String> lost = new ArrayList<>();
        int rounds = 24;
        try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(1, UnnamedStatementPlans.CUSTOM, CHECKOUT_TIMEOUT)) {
            for (int round = 1; round <= rounds; round++) {
                try (Primed c = Primed.open(pgmux, port, select)) {
                    c.client.send(bytes(Op.parse("", select)));
                    c.awaitParseTaken(pgmux);
                    String loops = eventLoops(pgmux);
                    terminate(c.pid);
                    List<BackendMessage> got = assertEndedWithError(c.client, "a Parse alone, then termination, round " + round);
                    BackendMessage error = errors(got).getFirst();
                    boolean parseCompleteFirst = port == Port.SESSION
                            ? tags(got).equals(List.of("ParseComplete", "ErrorResponse"))
                            : tags(got).equals(List.of("ErrorResponse")) || tags(got).equals(List.of("ParseComplete", "ErrorResponse"));
                    if (!"57P01".equals(error.sqlState()) || !parseCompleteFirst) {
                        lost.add("round " + round + " (" + loops + "): " + got);
                    }
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));
            }
        } finally {
            admin("DROP TABLE IF EXISTS " + table);
        }
        assertThat(lost).as("rounds of %d (%s port) where the client did not get what Postgres sent before it ended the"
                + " backend (ParseComplete on the session port, then FATAL 57P01)", rounds, port).isEmpty();
    }

    // --- 3. the client vanishes mid-unit ---

    /**
     * A raw client on a pool of one server that holds the statement leaves in the middle of a unit: (a) after a
     * Parse alone (held back), (b) after Parse and Bind (reset), (c) while its Bind waits for a table lock, (d)
     * after Parse, Bind and Flush were answered, (e) the same after DDL, when the unit was sent again. The
     * server, mid-sequence, is never handed to anyone (its backend ends; in (c) its statement is cancelled while
     * the lock is still held), and the next client gets a server at once, no unnamed statement of the one that
     * left, and right results.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void clientVanishesInTheMiddleOfACachedUnit(Port port) throws Exception {
        String table = table(port, "vanish");
        String select = select(table);
        for (UnnamedStatementPlans plans : UnnamedStatementPlans.values()) {
            String as = port + " port, " + plans.configName() + " plans";
            createTable(table);
            try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(1, plans, CHECKOUT_TIMEOUT)) {
                // (a) A Parse alone, then a close without Terminate.
                int pid;
                try (Primed c = Primed.open(pgmux, port, select)) {
                    pid = c.pid;
                    c.client.send(bytes(Op.parse("", select)));
                    c.awaitParseTaken(pgmux);
                    c.client.closeWithoutTerminate();
                }
                awaitGone(pid, "the server of a client that left after a Parse alone (" + as + ")");
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (b) Parse and Bind, then a reset.
                try (Primed c = Primed.open(pgmux, port, select)) {
                    pid = c.pid;
                    c.client.send(bytes(Op.parse("", select), Op.bind("", "", "1")));
                    Wait.until("the server took the Bind (" + as + ")", BOUND, () -> superuserCount(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'active'", c.pid) == 1);
                    c.client.reset();
                }
                awaitGone(pid, "the server of a client that left after Parse and Bind (" + as + ")");
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (c) The whole unit, waiting for a lock, then a close: cancelled while the lock is still held.
                try (Primed c = Primed.open(pgmux, port, select);
                     Connection locker = TestPostgres.get().superuser()) {
                    pid = c.pid;
                    lock(locker, table);
                    c.client.send(bytes(unit(select, "1")));
                    Wait.until("the client's backend waits for the lock (" + as + ")", BOUND, () -> waitsForLock(c.pid));
                    c.client.closeWithoutTerminate();
                    awaitGone(pid, "the waiting statement of a client that left, cancelled and its server closed (" + as + ")");
                    locker.rollback();
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (d) Parse, Bind and Flush answered, then a close before Execute and Sync.
                try (Primed c = Primed.open(pgmux, port, select)) {
                    pid = c.pid;
                    c.client.send(bytes(Op.parse("", select), Op.bind("", "", "1"), Op.flush()));
                    assertThat(tags(List.of(c.client.readMessage(), c.client.readMessage())))
                            .as("the answers to Parse, Bind, Flush (%s)", as).containsExactly("ParseComplete", "BindComplete");
                    c.client.closeWithoutTerminate();
                }
                awaitGone(pid, "the server of a client that left after its Bind was answered (" + as + ")");
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1"));

                // (e) After DDL the first use meets 0A000 where pgmux caches, and the unit goes again; then a close.
                try (Primed c = Primed.open(pgmux, port, select)) {
                    pid = c.pid;
                    double replays = statementEvents(pgmux, "replay");
                    admin("ALTER TABLE " + table + " ADD COLUMN c int DEFAULT 7");
                    c.client.send(bytes(Op.parse("", select), Op.bind("", "", "1"), Op.flush()));
                    assertThat(tags(List.of(c.client.readMessage(), c.client.readMessage())))
                            .as("the answers to Parse, Bind, Flush after DDL (%s)", as).containsExactly("ParseComplete", "BindComplete");
                    assertThat(statementEvents(pgmux, "replay") - replays).as("units sent again (%s)", as)
                            .isEqualTo(port == Port.TRANSACTION ? 1.0 : 0.0);
                    c.client.closeWithoutTerminate();
                }
                awaitGone(pid, "the server of a client that left after a unit sent again (" + as + ")");
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1", "7"));
            } finally {
                admin("DROP TABLE IF EXISTS " + table);
            }
        }
    }

    // --- 4. a unit sent again after DDL, meeting a termination or a client that leaves ---

    /**
     * DDL changed the statement's result type after the server prepared it; the superuser holds the table, so
     * the client's first use (transaction port: the Bind of the stale copy, analysed again; session port: the
     * Parse) waits for the lock, and a second lock request queues behind it. Once the first lock goes, the
     * client's backend meets 0A000 and its implicit transaction ends, the second lock is granted, and the unit
     * pgmux sends again waits for it at the Parse that prepares the statement afresh. Then the backend is
     * terminated (custom plans) or the client leaves (auto plans). On the session port the server analysed
     * the Parse after the DDL, so the unit completes first and the fault meets an idle client. Either way the
     * client ends with one error, or its statement is cancelled and its server closed, and the next client is
     * served the new shape.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void unitSentAgainMeetsAFaultAtItsParse(Port port) throws Exception {
        String table = table(port, "replay_parse");
        String select = select(table);
        for (UnnamedStatementPlans plans : UnnamedStatementPlans.values()) {
            boolean terminate = plans == UnnamedStatementPlans.CUSTOM;
            String as = port + " port, " + plans.configName() + " plans, " + (terminate ? "termination" : "client leaves");
            createTable(table);
            try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(1, plans, CHECKOUT_TIMEOUT);
                 Connection first = TestPostgres.get().superuser();
                 Connection second = TestPostgres.get().superuser();
                 Primed c = Primed.open(pgmux, port, select)) {
                double replays = statementEvents(pgmux, "replay");
                admin("ALTER TABLE " + table + " ADD COLUMN c int DEFAULT 7");
                lock(first, table);
                c.client.send(bytes(unit(select, "1")));
                Wait.until("the client's backend waits for the first lock (" + as + ")", BOUND, () -> waitsForLock(c.pid),
                        () -> activity(c.pid));
                int secondPid = pid(second);
                CompletableFuture<Void> secondLock = CompletableFuture.runAsync(() -> {
                    try {
                        lock(second, table);
                    } catch (SQLException e) {
                        throw new AssertionError("the second lock", e);
                    }
                }, runnable -> Thread.ofVirtual().start(runnable));
                Wait.until("the second lock request queued behind the client's (" + as + ")", BOUND, () -> waitsForLock(secondPid));
                first.rollback();
                secondLock.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);

                if (port == Port.TRANSACTION) {
                    Wait.until("the unit sent again, its Parse waiting for the second lock (" + as + ")", BOUND,
                            () -> statementEvents(pgmux, "replay") - replays == 1.0 && waitsForLock(c.pid),
                            () -> "replays " + (statementEvents(pgmux, "replay") - replays) + ", backend " + activity(c.pid));
                } else {
                    List<BackendMessage> done = c.client.readUntilReady(1).messages();
                    assertThat(errors(done)).as("errors of the unit (%s)", as).isEmpty();
                    assertThat(columns(done)).as("%s", as).containsExactly(List.of("k", "v", "c"));
                }
                fault(c, terminate, as);
                second.rollback();
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1", "7"));
                assertThat(statementEvents(pgmux, "replay") - replays).as("units sent again in all (%s)", as)
                        .isEqualTo(port == Port.TRANSACTION ? 1.0 : 0.0);
            } finally {
                admin("DROP TABLE IF EXISTS " + table);
            }
        }
    }

    /**
     * The same DDL, and the statement takes an advisory lock the superuser holds: the unit (on the transaction
     * port sent again after the hidden 0A000, with the statement prepared afresh) waits at its Execute, its
     * ParseComplete, BindComplete and new RowDescription unsent in the server's buffer. Then the backend is
     * terminated (auto plans) or the client leaves (custom plans): the client gets those and one error, or
     * its statement is cancelled and its server closed while the lock is still held.
     */
    @ParameterizedTest
    @EnumSource(Port.class)
    void unitSentAgainMeetsAFaultAtItsExecute(Port port) throws Exception {
        String table = table(port, "replay_execute");
        long key = 7_300_000L + port.ordinal();
        String select = "SELECT *, pg_advisory_xact_lock(" + key + ") AS locked FROM " + table + " WHERE k = $1";
        for (UnnamedStatementPlans plans : UnnamedStatementPlans.values()) {
            boolean terminate = plans == UnnamedStatementPlans.AUTO;
            String as = port + " port, " + plans.configName() + " plans, " + (terminate ? "termination" : "client leaves");
            createTable(table);
            try (PgmuxHarness pgmux = CachedStatementFaultsSupport.start(1, plans, CHECKOUT_TIMEOUT);
                 Connection holder = TestPostgres.get().superuser();
                 Primed c = Primed.open(pgmux, port, select)) {
                double replays = statementEvents(pgmux, "replay");
                admin("ALTER TABLE " + table + " ADD COLUMN c int DEFAULT 7");
                try (Statement st = holder.createStatement()) {
                    st.execute("SELECT pg_advisory_lock(" + key + ")");
                }
                c.client.send(bytes(unit(select, "1")));
                Wait.until("the unit waits for the advisory lock at its Execute (" + as + ")", BOUND,
                        () -> waitsForLock(c.pid) && statementEvents(pgmux, "replay") - replays
                                == (port == Port.TRANSACTION ? 1.0 : 0.0),
                        () -> "replays " + (statementEvents(pgmux, "replay") - replays) + ", backend " + activity(c.pid));
                List<BackendMessage> got = fault(c, terminate, as);
                // The server's FATAL and what it flushed with it reach the client, as from a direct server.
                if (terminate) {
                    assertThat(errors(got).getFirst().sqlState()).as("the server's own error (%s)", as).isEqualTo("57P01");
                    assertThat(tags(got)).as("what came of the unit (%s)", as)
                            .containsExactly("ParseComplete", "BindComplete", "RowDescription", "ErrorResponse");
                    assertThat(columns(got)).as("the shape after the DDL (%s)", as)
                            .containsExactly(List.of("k", "v", "c", "locked"));
                }
                try (Statement st = holder.createStatement()) {
                    st.execute("SELECT pg_advisory_unlock(" + key + ")");
                }
                nextClientIsServedRight(pgmux, port, select, List.of("1", "v1", "7", ""));
                assertThat(statementEvents(pgmux, "replay") - replays).as("units sent again in all (%s)", as)
                        .isEqualTo(port == Port.TRANSACTION ? 1.0 : 0.0);
            } finally {
                admin("DROP TABLE IF EXISTS " + table);
            }
        }
    }

    /**
     * Terminates the primed client's backend, which must end the client with one error (returned with what came
     * before it), or closes the client, whose statement, if one runs, must be cancelled and its server closed.
     */
    private static List<BackendMessage> fault(Primed c, boolean terminate, String as) throws Exception {
        if (terminate) {
            terminate(c.pid);
            return assertEndedWithError(c.client, "termination (" + as + ")");
        }
        boolean running = superuserCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'active'", c.pid) == 1;
        c.client.closeWithoutTerminate();
        if (running) {
            awaitGone(c.pid, "the statement of a client that left, cancelled and its server closed (" + as + ")");
        }
        return List.of();
    }

    // --- helpers ---

    /**
     * A raw client on a pool of one server, that server's pid, and the statement {@code select} run twice with
     * $1 = 1: on the transaction port the second Parse is answered from the copy the server holds.
     */
    private static final class Primed implements AutoCloseable {
        final WireClient client;
        final int pid;
        private final Port port;

        private Primed(WireClient client, int pid, Port port) {
            this.client = client;
            this.pid = pid;
            this.port = port;
        }

        static Primed open(PgmuxHarness pgmux, Port port, String select) throws Exception {
            WireClient client = login(pgmux, port, "primed client");
            try {
                int pid = Integer.parseInt(client.queryValue("SELECT pg_backend_pid()"));
                double hits = 0;
                for (int i = 0; i < 2; i++) {
                    hits = statementEvents(pgmux, "hit");
                    List<BackendMessage> ran = exchange(client, unit(select, "1"));
                    assertThat(errors(ran)).as("run %d of %s", i + 1, select).isEmpty();
                    assertThat(rows(ran)).as("run %d of %s", i + 1, select).hasSize(1);
                }
                assertThat(statementEvents(pgmux, "hit") - hits).as("the second Parse answered from the server's copy")
                        .isEqualTo(port == Port.TRANSACTION ? 1.0 : 0.0);
                assertThat(client.queryValue("SELECT pg_backend_pid()")).as("the pool's only server")
                        .isEqualTo(Integer.toString(pid));
                return new Primed(client, pid, port);
            } catch (Exception | AssertionError e) {
                client.close();
                throw e;
            }
        }

        /**
         * Waits until pgmux has taken a Parse sent alone: on the transaction port it holds the pool's server for
         * the open unit (and sends it nothing); on the session port the server has parsed it.
         */
        void awaitParseTaken(PgmuxHarness pgmux) {
            if (port == Port.TRANSACTION) {
                Wait.until("the client holds the server for its open unit", BOUND,
                        () -> pgmux.stats(ROLE).active() == 1, pgmux::describePools);
            } else {
                Wait.until("the server took the Parse", BOUND, () -> superuserCount(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'active'", pid) == 1);
            }
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /**
     * A new client gets a server within the checkout timeout; it has no unnamed statement (none of a client
     * that left), and the statement with $1 = 1 gives {@code row}, outside any transaction.
     */
    private static void nextClientIsServedRight(PgmuxHarness pgmux, Port port, String select, List<String> row)
            throws IOException {
        try (WireClient next = login(pgmux, port, "next client")) {
            List<BackendMessage> none = exchange(next, Op.bind("", ""), Op.execute(), Op.sync());
            assertThat(errors(none).stream().map(BackendMessage::sqlState).toList())
                    .as("a Bind of the unnamed statement before any Parse: %s", none).containsExactly("26000");
            List<BackendMessage> ran = exchange(next, unit(select, "1"));
            assertThat(errors(ran)).as("the next client's unit: %s", ran).isEmpty();
            assertThat(rows(ran)).as("the next client's rows").containsExactly(row);
            assertThat(WireClient.lastStatus(ran)).as("outside any transaction").isEqualTo('I');
        }
        Wait.until("no server in use once the next client left", BOUND, () -> {
            ServerPool.Stats s = pgmux.stats(ROLE);
            return s.active() == 0 && s.connecting() == 0 && s.closing() == 0 && s.open() <= 1;
        }, pgmux::describePools);
    }

    /** Sends the rest of a unit to a connection the fault may have ended already. */
    private static void sendIfStillOpen(WireClient client, Op... ops) {
        try {
            client.send(bytes(ops));
        } catch (IOException closed) {
            // pgmux ended the connection first: what it said is read next
        }
    }

    private static void awaitGone(int pid, String what) {
        Wait.until(what + ": backend " + pid + " gone", BOUND, () -> !backendAlive(pid));
    }

    private static void lock(Connection locker, String table) throws SQLException {
        locker.setAutoCommit(false);
        try (Statement st = locker.createStatement()) {
            st.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
        }
    }

    /** Whether the one client holding a server and that server share an event loop, for failure messages. */
    private static String eventLoops(PgmuxHarness pgmux) {
        for (ClientConnection client : pgmux.server().runtime().clients().all()) {
            ServerConnection server = client.server();
            if (server != null) {
                return client.channel().eventLoop() == server.channel().eventLoop()
                        ? "client and server on one event loop" : "client and server on different event loops";
            }
        }
        return "no client holds a server";
    }

    /** The backend's state, wait event and query, and the relation and advisory locks, for failure messages. */
    private static String activity(int pid) {
        try (Connection su = TestPostgres.get().superuser();
             var ps = su.prepareStatement("SELECT state || ' ' || coalesce(wait_event_type, '-') || ' ' || query"
                     + " || '; locks: ' || (SELECT string_agg(concat_ws(':', l.pid, l.locktype, l.relation::regclass,"
                     + " l.objid, l.mode, l.granted), ', ') FROM pg_locks l WHERE l.locktype IN ('relation', 'advisory'))"
                     + " FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "gone";
            }
        } catch (SQLException e) {
            return e.toString();
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
