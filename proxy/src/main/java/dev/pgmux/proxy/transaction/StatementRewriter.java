package dev.pgmux.proxy.transaction;

import dev.pgmux.config.PreparedStatementMode;
import dev.pgmux.config.UnnamedStatementPlans;
import dev.pgmux.proxy.metrics.PoolTraffic;
import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.CloseComplete;
import dev.pgmux.protocol.message.backend.CommandComplete;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.protocol.message.backend.ParseComplete;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.protocol.message.frontend.Bind;
import dev.pgmux.protocol.message.frontend.Close;
import dev.pgmux.protocol.message.frontend.Describe;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.protocol.message.frontend.Sync;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.prepared.ClientStatements;
import dev.pgmux.proxy.prepared.ServerStatements;
import dev.pgmux.proxy.prepared.StatementDef;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.transaction.Expected.Delivery;
import dev.pgmux.proxy.transaction.Expected.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.function.Consumer;

/**
 * Named prepared statements in transaction mode. In {@code rewrite} mode each client name maps to a
 * shared definition with a server-side name of pgmux's: Parse is skipped (ParseComplete synthesised) where
 * the server already holds the statement, Bind and Describe are renamed and preceded by an injected Parse
 * where it does not, Close is answered locally. {@code strip} turns named statements into the unnamed one,
 * re-parsed before each use; {@code passthrough} forwards everything untouched.
 *
 * <p>Where a direct server would raise an error that only pgmux can detect (a duplicate name), pgmux
 * makes the server fail in its place with a message that has no side effects (Describe of a statement
 * that cannot exist) and replaces that error by the right one, so the server skips to Sync and aborts the
 * transaction exactly as it would have.
 *
 * <p>With {@code cache_unnamed_statements}, the client's unnamed statement is followed too and served from
 * the same shared statements where that is exact: a Parse at the start of a unit in an implicit transaction
 * (where a {@code 0A000} at its first Bind or Describe can be recovered by sending the unit again, see
 * {@link Replays}); elsewhere it is parsed on the server as the unnamed statement, as sent.
 */
final class StatementRewriter {
    /** No server statement ever has this name: Describe of it fails without side effects. */
    private static final String NO_SUCH_STATEMENT = "pgmux/no such statement";
    /** A name only ever used to let the server check a query, closed right after. */
    private static final String CHECK_STATEMENT = "pgmux/check";
    private static final String CACHED_PLAN_CHANGED = "cached plan must not change result type";
    /** Postgres plans a statement's first five executions for their parameters, then may go generic. */
    private static final int CUSTOM_PLANS = 5;

    /**
     * Where the messages of a unit are kept for sending again: from the first Bind or Describe of an unnamed
     * statement served from a shared one, which a direct server would have analysed afresh at its Parse.
     */
    interface Replays {
        Replays NONE = new Replays() {
            @Override
            public void record(ByteBuf message) {
                message.release();
            }

            @Override
            public void answered(boolean again) {
            }

            @Override
            public boolean recording() {
                return false;
            }
        };

        /** Starts keeping the unit's messages with this one (taken). */
        void record(ByteBuf message);

        /** The recorded message was answered; {@code again}: with 0A000, so the unit is to be sent again. */
        void answered(boolean again);

        boolean recording();
    }

    private final PreparedStatementMode mode;
    private final ClientStatements statements;
    private final int maxServerStatements;
    private final Consumer<SessionChanges> sessionChanges;
    /** Where messages for the attached server go, after anything the client's batch passes on unchanged. */
    private final MessageWriter toServer;
    private ServerConnection server;
    private ResponseTracker responses;
    /** Earlier messages of the current unit were sent: a simple Query may not be injected now. */
    private boolean sequenceOpen;
    /** The server's last transaction status holds: no earlier unit unanswered, nothing executed in this one. */
    private boolean statusSettled;
    private PoolTraffic traffic = PoolTraffic.NONE;
    /** Unnamed statements are followed and served from shared ones (cache_unnamed_statements). */
    private final boolean cacheUnnamed;
    private final UnnamedStatementPlans unnamedPlans;
    private final Replays replays;
    /**
     * The next message opens the unit's work in an implicit transaction whose status is settled: nothing was
     * bound or executed before it in this unit, so an error there undoes nothing but what pgmux can send again.
     */
    private boolean replayable;
    /** The client parsed its unnamed statement in the current unit: a direct server analysed it just now. */
    private boolean unnamedParsedInUnit;
    /** The current unit is being sent again after a 0A000 (see {@link #replaying}). */
    private boolean replayingUnit;
    /**
     * A Parse of the unnamed statement served from a shared statement the server holds, whose ParseComplete is
     * held back until the statement's first use in the unit answers (see {@link #flushPendingParse}); null when
     * there is none. What completes or undoes it is this outcome.
     */
    private UnnamedParse pendingParse;

    StatementRewriter(PreparedStatementMode mode, ClientStatements statements, int maxServerStatements,
                      Consumer<SessionChanges> sessionChanges, MessageWriter toServer) {
        this(mode, statements, maxServerStatements, sessionChanges, toServer, false, UnnamedStatementPlans.CUSTOM,
                Replays.NONE);
    }

    StatementRewriter(PreparedStatementMode mode, ClientStatements statements, int maxServerStatements,
                      Consumer<SessionChanges> sessionChanges, MessageWriter toServer, boolean cacheUnnamed,
                      UnnamedStatementPlans unnamedPlans, Replays replays) {
        this.cacheUnnamed = cacheUnnamed && mode == PreparedStatementMode.REWRITE;
        this.unnamedPlans = unnamedPlans;
        this.replays = replays;
        this.toServer = toServer;
        this.mode = mode;
        this.statements = statements;
        this.maxServerStatements = maxServerStatements;
        this.sessionChanges = sessionChanges;
    }

    /** The server the next messages go to, and the queue their responses are tracked in. */
    /** Where hits, misses, re-prepares, evictions and binds are counted. */
    void countIn(PoolTraffic traffic) {
        this.traffic = traffic;
    }

    void attach(ServerConnection server, ResponseTracker responses) {
        this.server = server;
        this.responses = responses;
    }

    void sequenceOpen(boolean open, boolean settled) {
        sequenceOpen(open, settled, false);
    }

    /** @param replayable see {@link #replayable} */
    void sequenceOpen(boolean open, boolean settled, boolean replayable) {
        this.sequenceOpen = open;
        this.statusSettled = settled;
        this.replayable = replayable;
    }

    boolean cachesUnnamed() {
        return cacheUnnamed;
    }

    /** A Sync or a simple Query ended the unit. */
    void unitEnded() {
        unnamedParsedInUnit = false;
        replayingUnit = false;
    }

    /** A simple Query destroys the unnamed statement (Postgres's rule). */
    void simpleQuerySent() {
        if (statements.unnamed() != null) {
            statements.release(statements.unnamed(null, false));
        }
    }

    ClientStatements statements() {
        return statements;
    }

    private ServerStatements held() {
        return server.session().statements(maxServerStatements);
    }

    /**
     * @param statusSettled the server's last transaction status still holds for this message (no earlier
     *                      unit unanswered, nothing executed yet in this one) and is not failed
     */
    void parse(ByteBuf frame, boolean statusSettled) {
        flushPendingParse();
        Parse parse = decode(frame, FrontendCodec::decodeParse);
        SessionChanges changes = mayChangeSession(frame) ? SessionChanges.of(parse.query()) : SessionChanges.NONE;
        if (changes != SessionChanges.NONE) {
            sessionChanges.accept(changes);
        }
        if (parse.name().isEmpty() && cacheUnnamed) {
            parseUnnamed(frame, parse, changes == SessionChanges.NONE);
            return;
        }
        if (parse.name().isEmpty() || mode == PreparedStatementMode.PASSTHROUGH) {
            forward(frame, Kind.PARSE);
            return;
        }
        frame.release();
        String name = parse.name();
        if (statements.contains(name) || statements.isFull()) {
            // Postgres parses before it looks at the name, so a syntax error wins over a duplicate: let the
            // server parse it under a throwaway name first.
            send(new Parse(CHECK_STATEMENT, parse.query(), parse.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.SWALLOW);
            send(new Close(Close.STATEMENT, CHECK_STATEMENT));
            responses.expect(Kind.CLOSE, Delivery.SWALLOW);
            if (statements.contains(name)) {
                failLikeServer(SqlState.DUPLICATE_PREPARED_STATEMENT, "prepared statement \"" + name + "\" already exists");
            } else {
                failLikeServer(SqlState.CONFIGURATION_LIMIT_EXCEEDED, "too many prepared statements on this connection: "
                        + "pgmux allows " + statements.maxStatements() + " (max_client_prepared_statements)");
            }
            return;
        }
        StatementDef def = statements.register(name, parse.query(), parse.parameterTypes(), false);
        Expected.Outcome undo = new Expected.Outcome() {
            @Override
            public void failed(ErrorResponse error) {
                statements.unregister(name, def);
            }
        };
        if (mode == PreparedStatementMode.STRIP) {
            send(new Parse("", parse.query(), parse.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.CLIENT, undo);
        } else if (held().holds(def) && statusSettled) {
            traffic.preparedHit();
            responses.synthesize(encode(ParseComplete.INSTANCE), undo);
        } else if (held().holds(def)) {
            traffic.preparedHit();
            // The transaction may be failed (then Postgres answers 25P02): let the server parse it under a
            // throwaway name, and give its answer, whatever it is, to the client.
            send(new Parse(CHECK_STATEMENT, parse.query(), parse.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.CLIENT, undo);
            send(new Close(Close.STATEMENT, CHECK_STATEMENT));
            responses.expect(Kind.CLOSE, Delivery.SWALLOW);
        } else {
            traffic.preparedMiss();
            makeRoom();
            ServerStatements held = held();
            if (held.takeStale(def)) {
                closeStale(held, def);
            }
            held.add(def);
            send(new Parse(def.serverName(), def.query(), def.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.CLIENT, new Expected.Outcome() {
                @Override
                public void failed(ErrorResponse error) {
                    statements.unregister(name, def);
                    held.remove(def);
                }
            });
        }
    }

    void bind(ByteBuf frame) {
        Bind bind = decode(frame, FrontendCodec::decodeBind);
        if (bind.statement().isEmpty() && cacheUnnamed) {
            bindUnnamed(frame);
            return;
        }
        flushPendingParse();
        StatementDef def = lookup(bind.statement());
        if (def == null) {
            forward(frame, Kind.BIND); // unnamed, passthrough, or unknown (the server gives the exact 26000 error)
            return;
        }
        traffic.bound();
        if (def.changesSession()) {
            sessionChanges.accept(SessionChanges.of(def.query()));
        }
        if (statements.planOutdated(bind.statement(), def)) {
            // Another client's server reported that this statement's result shape changed (DDL); this
            // client's own Postgres session would report it once too, so its driver re-describes.
            frame.release();
            statements.planSeen(bind.statement(), def);
            failAsPlanChanged();
            return;
        }
        if (cannotPrepareHere(def)) {
            failBindInFailedTransaction(frame, def, bind.statement());
            return;
        }
        PrepareFailure failure = new PrepareFailure();
        String serverName = prepareOnServer(def, failure);
        held().bound(def);
        ByteBuf renamed = FrontendCodec.renameBindStatement(frame, serverName, frame.alloc());
        frame.release();
        toServer.write(renamed);
        responses.expect(Kind.BIND, Delivery.CLIENT, failure.standsFor(asClientSees(def, bind.statement())));
    }

    void describe(ByteBuf frame) {
        Describe describe = decode(frame, FrontendCodec::decodeDescribe);
        if (describe.isStatement() && describe.name().isEmpty() && cacheUnnamed) {
            describeUnnamed(frame);
            return;
        }
        flushPendingParse();
        if (!describe.isStatement()) {
            forward(frame, Kind.DESCRIBE_PORTAL);
            return;
        }
        StatementDef def = lookup(describe.name());
        if (def == null) {
            forward(frame, Kind.DESCRIBE_STATEMENT);
            return;
        }
        frame.release();
        if (cannotPrepareHere(def)) {
            failInFailedTransaction();
            return;
        }
        PrepareFailure failure = new PrepareFailure();
        send(new Describe(Describe.STATEMENT, prepareOnServer(def, failure)));
        responses.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, failure.standsFor(asClientSees(def, describe.name())));
    }

    void close(ByteBuf frame) {
        flushPendingParse();
        Close close = decode(frame, FrontendCodec::decodeClose);
        if (close.isStatement() && close.name().isEmpty() && cacheUnnamed) {
            frame.release();
            boolean wasOnServer = statements.unnamedOnServer();
            StatementDef before = statements.unnamed(null, false);
            responses.synthesize(encode(CloseComplete.INSTANCE), new Expected.Outcome() {
                @Override
                public void succeeded() {
                    statements.release(before);
                }

                @Override
                public void failed(ErrorResponse error) {
                    statements.release(statements.unnamed(before, wasOnServer)); // skipped: it lives on
                }
            });
            return;
        }
        if (!close.isStatement() || close.name().isEmpty() || mode == PreparedStatementMode.PASSTHROUGH) {
            forward(frame, Kind.CLOSE);
            return;
        }
        frame.release();
        // Closing a name that does not exist is not an error in Postgres either. The server keeps its
        // copy: other clients may share it, and its LRU bound closes it when room is needed.
        String name = close.name();
        StatementDef closed = statements.detach(name);
        responses.synthesize(encode(CloseComplete.INSTANCE), new Expected.Outcome() {
            @Override
            public void succeeded() {
                statements.release(closed);
            }

            @Override
            public void failed(ErrorResponse error) {
                statements.reattach(name, closed); // skipped after an error: the name lives on
            }
        });
    }

    /**
     * Decodes a message this rewriter was handed: a malformed one is released here, before its
     * ProtocolException ends the client (who gets 08P01), since the caller gave up its ownership.
     */
    static <T> T decode(ByteBuf frame, java.util.function.Function<ByteBuf, T> decoder) {
        try {
            return decoder.apply(frame);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
    }

    /** The definition a client statement name stands for, or null when the message goes through as it is. */
    private StatementDef lookup(String name) {
        if (name.isEmpty() || mode == PreparedStatementMode.PASSTHROUGH) {
            return null;
        }
        return statements.get(name);
    }

    /**
     * Makes sure the attached server can execute {@code def}; returns the name to use there. An error of a
     * PREPARE this sends is kept in {@code failure} (a Parse's error answers the client's message itself).
     */
    private String prepareOnServer(StatementDef def, PrepareFailure failure) {
        if (mode == PreparedStatementMode.STRIP) {
            send(new Parse("", def.query(), def.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.SWALLOW);
            return "";
        }
        ServerStatements held = held();
        if (held.holds(def)) {
            return def.serverName();
        }
        traffic.reprepared();
        makeRoom();
        if (def.sqlPrepared() && sequenceOpen) {
            // A simple Query would end the open sequence (and drop its unnamed portal): parse the
            // statement after AS instead, letting the server infer any parameter types.
            held.add(def);
            send(new Parse(def.serverName(), statementAfterAs(def.query()), new int[0]));
            responses.expect(Kind.PARSE, Delivery.SWALLOW, new Expected.Outcome() {
                @Override
                public void failed(ErrorResponse error) {
                    held.remove(def);
                }
            });
            return def.serverName();
        }
        if (def.sqlPrepared()) {
            // Made by SQL PREPARE: a PREPARE makes it again exactly, as a simple Query at the start of a unit.
            held.add(def);
            send(new Query("PREPARE " + def.serverName() + " " + def.query()));
            responses.expect(Kind.QUERY, Delivery.SWALLOW, failure.recording(() -> held.remove(def)));
            return def.serverName();
        }
        if (held.takeStale(def)) {
            closeStale(held, def);
        }
        held.add(def);
        send(new Parse(def.serverName(), def.query(), def.parameterTypes()));
        responses.expect(Kind.PARSE, Delivery.SWALLOW, new Expected.Outcome() {
            @Override
            public void failed(ErrorResponse error) {
                held.remove(def);
            }
        });
        return def.serverName();
    }

    /**
     * The server lacks {@code def} and is in a failed transaction, where Postgres refuses to parse anything
     * but a statement that ends the transaction (COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT, PREPARE
     * TRANSACTION): those are prepared on this server as anywhere else.
     */
    private boolean cannotPrepareHere(StatementDef def) {
        return mode == PreparedStatementMode.REWRITE && statusSettled && !def.endsTransaction() && !held().holds(def)
                && server.transactionStatus() == ReadyForQuery.FAILED_TRANSACTION.status();
    }

    /** The client's statement predates a result-shape change: it gets the 0A000 its own session would give. */
    private void failAsPlanChanged() {
        // Drivers (pgjdbc) re-prepare on this error only when it names Postgres' routine, as Postgres does.
        send(new Describe(Describe.STATEMENT, NO_SUCH_STATEMENT));
        responses.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, replaceError(
                new ErrorResponse(Notice.of("ERROR", SqlState.FEATURE_NOT_SUPPORTED, CACHED_PLAN_CHANGED)
                        .with(Notice.FILE, "plancache.c").with(Notice.ROUTINE, "RevalidateCachedQuery"))));
    }

    /**
     * In a failed transaction nothing can be prepared. Postgres checks the parameter count before the
     * transaction state, so say what it would say, and let the server skip to Sync. Takes the frame.
     */
    private void failBindInFailedTransaction(ByteBuf frame, StatementDef def, String clientName) {
        int supplied = decode(frame, StatementRewriter::bindParameterCount);
        int required = def.requiredParameters();
        frame.release();
        if (supplied != required) {
            failLikeServer(SqlState.PROTOCOL_VIOLATION, "bind message supplies " + supplied
                    + " parameters, but prepared statement \"" + clientName + "\" requires " + required);
        } else {
            failInFailedTransaction();
        }
    }

    private void failInFailedTransaction() {
        failLikeServer(SqlState.IN_FAILED_SQL_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block");
    }

    /** Whether a Parse's query may change the session (the cheap check on its bytes: see SqlCommands#mayNeedAnalysis). */
    private static boolean mayChangeSession(ByteBuf parse) {
        int start = parse.readerIndex() + Frames.HEADER;
        int end = parse.writerIndex();
        int nameEnd = parse.indexOf(start, end, (byte) 0);
        int queryEnd = nameEnd < 0 ? -1 : parse.indexOf(nameEnd + 1, end, (byte) 0);
        return queryEnd < 0 || SqlCommands.mayNeedAnalysis(parse, nameEnd + 1, queryEnd - nameEnd - 1);
    }

    /** The number of parameter values a Bind carries (after its format codes). */
    private static int bindParameterCount(ByteBuf frame) {
        ByteBuf in = Frames.payload(frame);
        Frames.readCString(in);
        Frames.readCString(in);
        Frames.requireReadable(in, 2, "Bind");
        int formats = in.readUnsignedShort();
        Frames.requireReadable(in, 2 * formats + 2, "Bind");
        in.skipBytes(2 * formats);
        return in.readUnsignedShort();
    }

    /** "(int, text) AS SELECT ..." or "AS SELECT ..." -> "SELECT ...". */
    static String statementAfterAs(String prepareRest) {
        String rest = prepareRest.strip();
        if (rest.startsWith("(")) {
            int depth = 0;
            for (int i = 0; i < rest.length(); i++) {
                char c = rest.charAt(i);
                if (c == '(') {
                    depth++;
                } else if (c == ')' && --depth == 0) {
                    rest = rest.substring(i + 1).strip();
                    break;
                }
            }
        }
        return rest.regionMatches(true, 0, "AS", 0, 2) ? rest.substring(2).strip() : rest;
    }

    /**
     * Closes the server's stale copy of {@code def} before it is prepared again. Skipped after an earlier
     * error in the unit, the Close leaves the copy on the server, still stale: it is closed at the next use.
     */
    private void closeStale(ServerStatements held, StatementDef def) {
        send(new Close(Close.STATEMENT, def.serverName()));
        responses.expect(Kind.CLOSE, Delivery.SWALLOW, new Expected.Outcome() {
            @Override
            public void failed(ErrorResponse error) {
                held.add(def);
                held.markStale(def);
            }
        });
    }

    /** Closes the server's least recently used statement if it is at its bound. */
    private void makeRoom() {
        ServerStatements held = held();
        StatementDef evicted = held.evictionCandidate();
        if (evicted != null) {
            traffic.evicted();
            send(new Close(Close.STATEMENT, evicted.serverName()));
            responses.expect(Kind.CLOSE, Delivery.SWALLOW, new Expected.Outcome() {
                @Override
                public void failed(ErrorResponse error) {
                    held.add(evicted); // skipped after an error: the server still holds it
                }
            });
        }
    }

    /**
     * The reply to a message that used {@code def} under its server name: errors that quote that name
     * quote the client's instead, and after DDL a cached plan the server refuses ("cached plan must not
     * change result type") is re-prepared at the next use.
     */
    private Expected.Outcome asClientSees(StatementDef def, String clientName) {
        ServerStatements held = held();
        int prepared = held.preparedGeneration(def);
        return new Expected.Outcome() {
            @Override
            public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                if (Frames.tag(frame) != ErrorResponse.TAG) {
                    return frame;
                }
                ErrorResponse error = (ErrorResponse) BackendCodec.decode(frame);
                String quoted = "\"" + def.serverName() + "\"";
                if (error.notice().fields().values().stream().noneMatch(value -> value.contains(quoted))) {
                    return frame;
                }
                java.util.Map<Byte, String> fields = new java.util.LinkedHashMap<>(error.notice().fields());
                fields.replaceAll((field, value) -> value.replace(quoted, "\"" + clientName + "\""));
                frame.release();
                return BackendCodec.encode(new ErrorResponse(new Notice(fields)), allocator);
            }

            @Override
            public void observe(ByteBuf frame) {
                // Also inside a simple Query (EXECUTE), whose errors do not fail the reply as a whole.
                if (Frames.tag(frame) == ErrorResponse.TAG) {
                    failed((ErrorResponse) BackendCodec.decode(frame));
                }
            }

            @Override
            public void failed(ErrorResponse error) {
                if (error != null && SqlState.FEATURE_NOT_SUPPORTED.equals(error.code())
                        && error.message() != null && error.message().startsWith(CACHED_PLAN_CHANGED)) {
                    held.markStale(def);
                    // Every server's copy from that generation is stale now, not just this one's: each is
                    // prepared again at its next use, so no client meets this error twice for one change.
                    def.planChanged(prepared >= 0 ? prepared : def.generation());
                    if (clientName.isEmpty()) {
                        statements.unnamedPlanSeen();
                    } else {
                        statements.planSeen(clientName, def);
                    }
                }
            }
        };
    }

    // --- the unnamed statement, where cache_unnamed_statements is on ---

    /**
     * A Parse of the unnamed statement. At a {@link #replayable} point and for a statement that changes nothing
     * pgmux follows, it is served like a named one: ParseComplete from pgmux where the server holds the shared
     * statement, a Parse under its server name where it does not. Elsewhere the server parses it as its own
     * unnamed statement, exactly as sent. Either way pgmux keeps its definition, so that the statement follows
     * the client to its next server.
     */
    private void parseUnnamed(ByteBuf frame, Parse parse, boolean plain) {
        StatementDef def = statements.acquireUnnamed(parse.query(), parse.parameterTypes());
        unnamedParsedInUnit = true;
        boolean wasOnServer = statements.unnamedOnServer();
        if (!plain || !replayable) {
            StatementDef before = statements.unnamed(def, true);
            toServer.write(frame);
            responses.expect(Kind.PARSE, Delivery.CLIENT, new UnnamedParse(def, before, wasOnServer, null));
            return;
        }
        frame.release();
        StatementDef before = statements.unnamed(def, false);
        ServerStatements held = held();
        if (held.holds(def)) {
            traffic.preparedHit();
            // The server's copy was analysed earlier, and may fail to analyse now (its table dropped, another
            // search_path) where a direct server would fail this Parse: the ParseComplete waits for the first
            // use's answer, and on an error the unit goes again with a real Parse (see FirstUse).
            pendingParse = new UnnamedParse(def, before, wasOnServer, null);
            return;
        }
        traffic.preparedMiss();
        makeRoom();
        if (held.takeStale(def)) {
            closeStale(held, def);
        }
        held.add(def);
        send(new Parse(def.serverName(), def.query(), def.parameterTypes()));
        responses.expect(Kind.PARSE, Delivery.CLIENT, new UnnamedParse(def, before, wasOnServer, () -> held.remove(def)));
    }

    /**
     * Answers a held-back Parse (see {@link #pendingParse}) now: the next message is not a use of the unnamed
     * statement that could answer for it. The handler calls this before any message that does not come here.
     */
    void flushPendingParse() {
        UnnamedParse parsed = pendingParse;
        if (parsed != null) {
            pendingParse = null;
            responses.synthesize(encode(ParseComplete.INSTANCE), parsed);
        }
    }

    /** The server is gone with a held-back Parse unanswered: the client keeps the statement it had before. */
    void abandonPendingParse() {
        UnnamedParse parsed = pendingParse;
        if (parsed != null) {
            pendingParse = null;
            parsed.failed(null);
        }
    }

    /**
     * The outcome of a Bind or Describe of the client's unnamed statement, served from the shared one: as
     * {@code outcome}, or a {@link FirstUse} that also answers for the held-back Parse (taken here) or may have
     * the unit sent again.
     */
    private Expected.Outcome firstUse(Expected.Outcome outcome, StatementDef def, boolean recoverable) {
        UnnamedParse parsed = pendingParse;
        pendingParse = null;
        return recoverable || parsed != null ? new FirstUse(outcome, def, parsed, recoverable) : outcome;
    }

    /**
     * The outcome of a Parse that made {@code def} the unnamed statement in place of {@code before}. Postgres
     * drops the previous unnamed statement before it parses, so a failed Parse leaves none; a skipped one
     * (after an earlier error) leaves the previous one.
     */
    private final class UnnamedParse implements Expected.Outcome {
        private final StatementDef def;
        private final StatementDef before;
        private final boolean beforeOnServer;
        private final Runnable undo;

        UnnamedParse(StatementDef def, StatementDef before, boolean beforeOnServer, Runnable undo) {
            this.def = def;
            this.before = before;
            this.beforeOnServer = beforeOnServer;
            this.undo = undo;
        }

        @Override
        public void succeeded() {
            statements.release(before);
        }

        @Override
        public void failed(ErrorResponse error) {
            undone(error != null);
        }

        /** The Parse failed (a held-back one: its statement could not be prepared again): no unnamed statement. */
        void parseFailed() {
            undone(true);
        }

        private void undone(boolean failed) {
            if (undo != null) {
                undo.run();
            }
            if (statements.unnamed() != def) {
                statements.release(before); // replaced meanwhile (cannot happen: later messages are undone first)
            } else if (failed) {
                statements.release(statements.unnamed(null, false));
                statements.release(before);
            } else {
                statements.release(statements.unnamed(before, beforeOnServer));
            }
        }
    }

    private void bindUnnamed(ByteBuf frame) {
        StatementDef def = statements.unnamed();
        if (def == null || statements.unnamedOnServer()) {
            unnamedMissingOrOnServer(frame, def, Kind.BIND);
            return;
        }
        boolean recoverable = unnamedParsedInUnit && replayable && !replays.recording();
        if (unnamedParsedInUnit && !replayable && !replays.recording() && !replayingUnit) {
            forwardAfterParseAsUnnamed(frame, def, Kind.BIND);
            return;
        }
        traffic.bound();
        if (def.changesSession()) {
            sessionChanges.accept(SessionChanges.of(def.query()));
        }
        if (!unnamedParsedInUnit && statements.unnamedPlanOutdated()) {
            flushPendingParse();
            frame.release();
            statements.unnamedPlanSeen();
            failAsPlanChanged();
            return;
        }
        if (cannotPrepareHere(def)) {
            flushPendingParse();
            failBindInFailedTransaction(frame, def, "");
            return;
        }
        ServerStatements held = held();
        if (unnamedPlans == UnnamedStatementPlans.CUSTOM && held.binds(def) >= CUSTOM_PLANS && def.requiredParameters() > 0) {
            // A direct server plans an unnamed statement for its parameters every time: prepare the shared one
            // again before Postgres could switch it to a generic plan.
            held.markStale(def);
        }
        PrepareFailure failure = new PrepareFailure();
        String serverName = prepareOnServer(def, failure);
        held.bound(def);
        ByteBuf renamed = FrontendCodec.renameBindStatement(frame, serverName, frame.alloc());
        if (recoverable) {
            replays.record(frame.retain());
        }
        Expected.Outcome outcome = firstUse(failure.standsFor(asClientSees(def, "")), def, recoverable);
        frame.release();
        toServer.write(renamed);
        responses.expect(Kind.BIND, Delivery.CLIENT, outcome);
    }

    private void describeUnnamed(ByteBuf frame) {
        StatementDef def = statements.unnamed();
        if (def == null || statements.unnamedOnServer()) {
            unnamedMissingOrOnServer(frame, def, Kind.DESCRIBE_STATEMENT);
            return;
        }
        boolean recoverable = unnamedParsedInUnit && replayable && !replays.recording();
        if (unnamedParsedInUnit && !replayable && !replays.recording() && !replayingUnit) {
            forwardAfterParseAsUnnamed(frame, def, Kind.DESCRIBE_STATEMENT);
            return;
        }
        if (cannotPrepareHere(def)) {
            flushPendingParse();
            frame.release();
            failInFailedTransaction();
            return;
        }
        PrepareFailure failure = new PrepareFailure();
        send(new Describe(Describe.STATEMENT, prepareOnServer(def, failure)));
        if (recoverable) {
            replays.record(frame);
        } else {
            frame.release();
        }
        Expected.Outcome outcome = firstUse(failure.standsFor(asClientSees(def, "")), def, recoverable);
        responses.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, outcome);
    }

    /** No unnamed statement (Postgres's own error), or the server holds it itself (the message goes as it is). */
    private void unnamedMissingOrOnServer(ByteBuf frame, StatementDef def, Kind kind) {
        flushPendingParse();
        if (def != null) {
            forward(frame, kind);
            return;
        }
        frame.release();
        // The server may hold an unnamed statement of another client's: pgmux answers for it.
        failLikeServer(SqlState.INVALID_SQL_STATEMENT_NAME, "unnamed prepared statement does not exist");
    }

    /**
     * Where the client's unnamed statement, parsed in this unit, would be used past the point where a 0A000
     * can be recovered: the server parses it now as its own unnamed statement, as a direct server did at the
     * client's Parse. Its error, if any, is what the client's message gets.
     */
    private void forwardAfterParseAsUnnamed(ByteBuf frame, StatementDef def, Kind kind) {
        flushPendingParse();
        PrepareFailure failure = parseAsUnnamed(def);
        toServer.write(frame);
        responses.expect(kind, Delivery.CLIENT, failure.standsFor(Expected.Outcome.NONE));
    }

    private PrepareFailure parseAsUnnamed(StatementDef def) {
        PrepareFailure failure = new PrepareFailure();
        send(new Parse("", def.query(), def.parameterTypes()));
        responses.expect(Kind.PARSE, Delivery.SWALLOW, failure.recording(() -> {
            // Skipped after an earlier error in the unit, or failed: the server holds no unnamed statement of
            // the client's, which keeps its own (its Parse succeeded), to be prepared again at its next use.
            if (statements.unnamed() == def) {
                statements.unnamedOnServer(false);
            }
        }));
        statements.unnamedOnServer(true);
        return failure;
    }

    /**
     * The reply to the first Bind or Describe of a shared statement standing for an unnamed one parsed in this
     * unit. It answers for the held-back Parse, if any ({@code parsed}): its ParseComplete goes out before the
     * reply's first frame. Where the unit is {@code recoverable} (nothing of it has run):
     * <ul>
     * <li>a 0A000 ("cached plan must not change result type") is one a direct server could not have raised,
     *     since it analysed the statement at the client's Parse;</li>
     * <li>after a held-back Parse, an error of analysis ({@link #mayBeAnalysisError}) may be one the server's
     *     copy, analysed earlier, meets where a direct server's Parse failed (its table dropped, another
     *     search_path), or one of the Bind itself.</li>
     * </ul>
     * Either is kept from the client and the unit sent again (see {@link Replays}), with the statement prepared
     * afresh on this server: then a Parse error comes where the client's Parse is, a Bind error after its
     * ParseComplete, as from a direct server.
     */
    private final class FirstUse implements Expected.Outcome {
        private final Expected.Outcome inner;
        private final StatementDef def;
        private final boolean recoverable;
        /** The held-back Parse this reply answers for, until its ParseComplete went out. */
        private UnnamedParse parsed;
        private boolean again;
        /** A Describe's ParameterDescription: Postgres sends it before it revalidates the statement. */
        private ByteBuf parameters;

        FirstUse(Expected.Outcome inner, StatementDef def, UnnamedParse parsed, boolean recoverable) {
            this.inner = inner;
            this.def = def;
            this.parsed = parsed;
            this.recoverable = recoverable;
        }

        @Override
        public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
            byte tag = Frames.tag(frame);
            if (tag == 't' && recoverable) {
                parameters = frame; // held back until the statement is known to be good
                return null;
            }
            if (tag == ErrorResponse.TAG && recoverable) {
                ErrorResponse error = (ErrorResponse) BackendCodec.decode(frame);
                if (isPlanChanged(error) || (parsed != null && mayBeAnalysisError(error))) {
                    if (!isPlanChanged(error)) {
                        held().markStale(def); // prepared again when the unit goes again
                    }
                    again = true;
                    frame.release();
                    releaseParameters();
                    return null;
                }
            }
            ByteBuf out = inner.transform(frame, allocator);
            ByteBuf before = parameters;
            parameters = null;
            if (parsed != null) {
                // The statement is good here (or this is the Bind's own error, after a Parse that succeeded).
                UnnamedParse answered = parsed;
                parsed = null;
                ByteBuf parseComplete = encode(ParseComplete.INSTANCE);
                before = before == null ? parseComplete
                        : allocator.compositeBuffer(2).addComponents(true, parseComplete, before);
                answered.succeeded();
            }
            if (before == null) {
                return out;
            }
            return out == null ? before : allocator.compositeBuffer(2).addComponents(true, before, out);
        }

        private void releaseParameters() {
            if (parameters != null) {
                parameters.release();
                parameters = null;
            }
        }

        @Override
        public void observe(ByteBuf frame) {
            inner.observe(frame);
        }

        @Override
        public void succeeded() {
            inner.succeeded();
            if (recoverable) {
                replays.answered(false);
            }
        }

        @Override
        public void failed(ErrorResponse error) {
            releaseParameters();
            inner.failed(error);
            boolean sendAgain = again && error != null;
            if (sendAgain) {
                traffic.replayed();
                pendingParse = parsed; // answered by the unit sent again
            } else if (parsed != null) {
                // Skipped: what pgmux sent before it to prepare the statement failed, and that error went to the
                // client in the Parse's place, as a direct server's Parse would have failed.
                parsed.parseFailed();
            }
            UnnamedParse carried = parsed;
            parsed = null;
            if (recoverable) {
                replays.answered(sendAgain);
            }
            if (carried != null && pendingParse == carried) {
                pendingParse = null; // not sent again after all (the server is gone)
                carried.failed(null);
            }
        }
    }

    /**
     * Whether an error at a statement's first use may be one of analysing it again (an undefined table, column
     * or function, a missing privilege or schema: classes 42 and 3F), which a direct server would have raised at
     * the client's Parse. Other errors (bad parameter values, a cancel, a shutdown) are the Bind's own: they go
     * to the client after the held-back ParseComplete, and the unit is not sent again.
     */
    private static boolean mayBeAnalysisError(ErrorResponse error) {
        String code = error.code();
        return !error.isFatal() && code != null && (code.startsWith("42") || code.startsWith("3F"));
    }

    private static boolean isPlanChanged(ErrorResponse error) {
        return error != null && SqlState.FEATURE_NOT_SUPPORTED.equals(error.code())
                && error.message() != null && error.message().startsWith(CACHED_PLAN_CHANGED);
    }

    /**
     * Sends again, after a 0A000 kept from the client, the unit from its recorded message on: the shared
     * statement, stale on this server now, is closed and prepared again there, so that the copy this server
     * holds is analysed now, as a direct server analysed the client's statement at its Parse; a Bind of it in
     * a later unit on this server then meets later DDL as a direct server's would.
     */
    void replaying() {
        unnamedParsedInUnit = true;
        replayingUnit = true;
        replayable = false;
    }

    // --- SQL-level PREPARE / EXECUTE / DEALLOCATE in a simple Query (rewrite mode only) ---

    /** Handles a Query that is exactly one of these commands; false when it should go through as it is. */
    boolean query(SqlCommands.Command command) {
        if (mode != PreparedStatementMode.REWRITE) {
            return false;
        }
        byte status = server.transactionStatus();
        if (status == 'E') {
            return false; // in a failed transaction the server answers 25P02 to anything, as it should
        }
        if (responses.skipping()) {
            return false; // the server discards it unseen after an error, as it should: nothing to map
        }
        switch (command) {
            case SqlCommands.Command.Prepare prepare -> sqlPrepare(prepare);
            case SqlCommands.Command.Execute execute -> {
                StatementDef def = statements.get(execute.name());
                if (def == null) {
                    return false; // the server's own "does not exist" error, word for word
                }
                PrepareFailure failure = new PrepareFailure();
                String serverName = prepareForSql(def, failure);
                held().bound(def);
                send(new Query("EXECUTE " + serverName + (execute.rest().isEmpty() ? "" : " " + execute.rest())));
                responses.expect(Kind.QUERY, Delivery.CLIENT, failure.standsFor(asClientSees(def, execute.name())));
            }
            case SqlCommands.Command.Deallocate deallocate -> {
                if (!statements.remove(deallocate.name())) {
                    return false;
                }
                answerAs("DEALLOCATE");
            }
            case SqlCommands.Command.DeallocateAll all -> {
                statements.clear();
                answerAs("DEALLOCATE ALL");
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void sqlPrepare(SqlCommands.Command.Prepare prepare) {
        String name = prepare.name();
        if (statements.contains(name)) {
            failQueryLikeServer(SqlState.DUPLICATE_PREPARED_STATEMENT, "prepared statement \"" + name + "\" already exists");
            return;
        }
        if (statements.isFull()) {
            failQueryLikeServer(SqlState.CONFIGURATION_LIMIT_EXCEEDED, "too many prepared statements on this connection: "
                    + "pgmux allows " + statements.maxStatements() + " (max_client_prepared_statements)");
            return;
        }
        StatementDef def = statements.register(name, prepare.rest(), new int[0], true);
        ServerStatements held = held();
        if (held.holds(def)) {
            answerAs("PREPARE");
            return;
        }
        makeRoom();
        held.add(def);
        send(new Query("PREPARE " + def.serverName() + " " + def.query()));
        responses.expect(Kind.QUERY, Delivery.CLIENT, new QueryOutcome() {
            @Override
            void completed(boolean failed) {
                if (failed) {
                    statements.unregister(name, def);
                    held.remove(def);
                }
            }
        });
    }

    /**
     * Prepares {@code def} on the server before an EXECUTE, with responses swallowed; an error in doing so is
     * kept in {@code failure}, to be what the client hears of its EXECUTE.
     */
    private String prepareForSql(StatementDef def, PrepareFailure failure) {
        ServerStatements held = held();
        if (held.holds(def)) {
            return def.serverName();
        }
        makeRoom();
        held.add(def);
        if (def.sqlPrepared()) {
            send(new Query("PREPARE " + def.serverName() + " " + def.query()));
            responses.expect(Kind.QUERY, Delivery.SWALLOW, failure.recording(() -> held.remove(def)));
        } else {
            send(new Parse(def.serverName(), def.query(), def.parameterTypes()));
            responses.expect(Kind.PARSE, Delivery.SWALLOW, failure.recording(() -> held.remove(def)));
            send(Sync.INSTANCE);
            responses.expect(Kind.SYNC, Delivery.SWALLOW);
        }
        return def.serverName();
    }

    /**
     * The error of a statement pgmux prepared again on a server for a client's EXECUTE or Bind (its table
     * dropped, say). On a direct connection the client's own statement would fail its revalidation with that
     * very error; here the client's message then meets "does not exist" instead, so that error is replaced
     * by the one that says why, and the preparation's own answer is not passed on.
     */
    static final class PrepareFailure {
        private ErrorResponse error;

        /** The outcome of the preparing message: notes its error (dropped), runs {@code undo} when it failed. */
        Expected.Outcome recording(Runnable undo) {
            return new QueryOutcome() {
                @Override
                public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                    if (Frames.tag(frame) == ErrorResponse.TAG) {
                        frame.release();
                        return null;
                    }
                    return frame;
                }

                @Override
                public void observe(ByteBuf frame) {
                    super.observe(frame);
                    if (Frames.tag(frame) == ErrorResponse.TAG && error == null) {
                        error = (ErrorResponse) BackendCodec.decode(frame);
                    }
                }

                @Override
                void completed(boolean failed) {
                    if (failed) {
                        undo.run();
                    }
                }
            };
        }

        /** The outcome of the client's message: as {@code inner}, but its error is the preparation's, if it failed. */
        Expected.Outcome standsFor(Expected.Outcome inner) {
            return new Expected.Outcome() {
                @Override
                public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                    if (error != null && Frames.tag(frame) == ErrorResponse.TAG) {
                        frame.release();
                        ErrorResponse cause = error;
                        error = null;
                        return BackendCodec.encode(cause, allocator);
                    }
                    return inner.transform(frame, allocator);
                }

                @Override
                public void observe(ByteBuf frame) {
                    inner.observe(frame);
                }

                @Override
                public void succeeded() {
                    inner.succeeded();
                }

                @Override
                public void failed(ErrorResponse failure) {
                    inner.failed(failure);
                }
            };
        }
    }

    /**
     * Answers a Query with CommandComplete(tag) + the server's own ReadyForQuery, by sending an empty
     * query and replacing its EmptyQueryResponse.
     */
    private void answerAs(String tag) {
        send(new Query(""));
        responses.expect(Kind.QUERY, Delivery.CLIENT, new Expected.Outcome() {
            @Override
            public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                if (Frames.tag(frame) != 'I') {
                    return frame;
                }
                frame.release();
                return BackendCodec.encode(new CommandComplete(tag), allocator);
            }
        });
    }

    /** In the extended protocol: the server fails in our place, then its error is replaced by ours. */
    private void failLikeServer(String sqlState, String message) {
        send(new Describe(Describe.STATEMENT, NO_SUCH_STATEMENT));
        responses.expect(Kind.DESCRIBE_STATEMENT, Delivery.CLIENT, replaceError(sqlState, message));
    }

    /** In a simple Query: the same, with a DEALLOCATE of a statement that cannot exist. */
    private void failQueryLikeServer(String sqlState, String message) {
        send(new Query("DEALLOCATE \"" + NO_SUCH_STATEMENT + "\""));
        responses.expect(Kind.QUERY, Delivery.CLIENT, replaceError(sqlState, message));
    }

    private static Expected.Outcome replaceError(String sqlState, String message) {
        return replaceError(new ErrorResponse(Notice.of("ERROR", sqlState, message)));
    }

    private static Expected.Outcome replaceError(ErrorResponse replacement) {
        return new Expected.Outcome() {
            @Override
            public ByteBuf transform(ByteBuf frame, ByteBufAllocator allocator) {
                if (Frames.tag(frame) != ErrorResponse.TAG) {
                    return frame;
                }
                frame.release();
                return BackendCodec.encode(replacement, allocator);
            }
        };
    }

    private void forward(ByteBuf frame, Kind kind) {
        toServer.write(frame);
        responses.expect(kind, Delivery.CLIENT);
    }

    private void send(FrontendMessage message) {
        toServer.write(FrontendCodec.encode(message, toServer.alloc()));
    }

    private ByteBuf encode(dev.pgmux.protocol.message.backend.BackendMessage message) {
        return BackendCodec.encode(message, server.channel().alloc());
    }

    /** Completion of a simple Query: failed when any ErrorResponse was part of its answer. */
    abstract static class QueryOutcome implements Expected.Outcome {
        private boolean sawError;

        @Override
        public void observe(ByteBuf frame) {
            if (Frames.tag(frame) == ErrorResponse.TAG) {
                sawError = true;
            }
        }

        @Override
        public void succeeded() {
            completed(sawError);
        }

        @Override
        public void failed(ErrorResponse error) {
            completed(true);
        }

        abstract void completed(boolean failed);
    }
}
