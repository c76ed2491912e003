package dev.pgmux.proxy.transaction;

import dev.pgmux.config.PreparedStatementsConfig;
import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.ReadyForQuery;
import dev.pgmux.protocol.message.frontend.Flush;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.protocol.message.frontend.Terminate;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.client.ClientErrors;
import dev.pgmux.proxy.client.EndWhenIdle;
import dev.pgmux.proxy.client.ExtendedSequence;
import dev.pgmux.proxy.client.ServerRelay;
import dev.pgmux.proxy.net.MessageWriter;
import dev.pgmux.proxy.pool.CheckoutException;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.prepared.ClientStatements;
import dev.pgmux.proxy.prepared.ServerStatements;
import dev.pgmux.proxy.server.CloseReason;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerQuery;
import dev.pgmux.proxy.server.ServerSession;
import dev.pgmux.proxy.server.UpstreamException;
import dev.pgmux.proxy.transaction.Expected.Delivery;
import dev.pgmux.proxy.transaction.Expected.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * Transaction mode: a client holds a server only while it needs one.
 *
 * <pre>
 *   LOGIN:    one checkout to apply the client's startup settings and learn the server's parameters,
 *             then ParameterStatus*, BackendKeyData, ReadyForQuery; the server goes back at once
 *   IDLE:     no server; the first message that needs one starts a checkout
 *   CHECKOUT: messages held (reads pause once {@value #MAX_HELD_BYTES} bytes wait), FIFO wait up to
 *             checkout_timeout
 *   ATTACHED: settings that differ are applied first, then messages flow through the
 *             {@link StatementRewriter} and their responses through the {@link ResponseTracker};
 *             at ReadyForQuery('I') with nothing owed and no extended-protocol sequence open,
 *             settings the client changed are read back and the server is released
 *   CLOSED:   the client left, or was ended; a shutdown ends it in IDLE, at once or when its server is
 *             released (see {@link EndWhenIdle})
 * </pre>
 */
public final class TransactionModeHandler extends ServerRelay implements ServerPool.CheckoutListener, EndWhenIdle {
    private static final Logger log = LoggerFactory.getLogger(TransactionModeHandler.class);

    private enum State { LOGIN, IDLE, CHECKOUT, ATTACHED, CLOSED }

    /**
     * Input held while a server is being checked out. Reads pause only once this much waits: a client
     * that sends one query and waits for it (the common case) costs no pause and resume of its reads.
     */
    static final int MAX_HELD_BYTES = 64 * 1024;

    /**
     * Input that waits for a server: the rest of a batch from the first message that needs one. Made at the
     * client's first wait and kept (every transaction waits here once), so a client that never ran a statement
     * keeps none; {@link #stalled}, rarely needed, exists only while something waits in it (about 45 bytes each).
     */
    private ArrayDeque<ByteBuf> held;
    private int heldBytes;
    /** Messages waiting, while attached, for earlier replies (see waitsForEarlierReplies). */
    private ArrayDeque<ByteBuf> stalled;
    /** The settings this client has, as Postgres reports them; applied to any server it lands on. */
    private ClientSettings settings;
    private ServerPool pool;
    /** The tenant's prepared-statement handling as it was at login: a reload changes it for later logins only. */
    private PreparedStatementsConfig prepared;
    /** Made, with {@link #responses} and {@link #toServer}, when the client first holds a server (relayState). */
    private StatementRewriter rewriter;
    private ResponseTracker responses;
    private ServerPool.Waiter checkout;
    private ServerConnection server;
    /** The attached server's side: what the client sends, gathered per batch where it passes unchanged. */
    private MessageWriter toServer;
    private State state = State.LOGIN;
    /** Where the client is in its extended-protocol sequences: an open one keeps the server attached. */
    private final ExtendedSequence sequence = new ExtendedSequence();
    /** After a failed checkout, the client's messages up to its Sync are dropped, as a server would. */
    private boolean discardUntilSync;
    /** The client sent Terminate: whatever follows it is not read. */
    private boolean terminated;
    /** Handling a read from the client: its channelReadComplete flushes what this read sent on. */
    private boolean inClientRead;
    /** pgmux is shutting down: the client is ended with this error as soon as it is idle. */
    private ErrorResponse farewell;
    /** A Bind or Execute was sent in the current unit (cache_unnamed_statements: see StatementRewriter). */
    private boolean unitBound;
    /** The messages of a unit that may have to be sent again (see UnitReplay); null when none are kept. */
    private UnitReplay replay;

    public TransactionModeHandler(ClientConnection client) {
        super(client);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        this.prepared = client.tenant().config().preparedStatements();
        this.pool = client.runtime().pools().join(client.tenant(), client.database(), client.user());
        client.joined(pool);
        client.servedBy(this);
        settings = new ClientSettings(client.sessionParameters());
        ServerPool.LoginTemplate template = pool.loginTemplate(settings.startupKey());
        if (template != null) {
            // These startup settings were accepted before: no server needed to welcome the client.
            welcome(template);
            return;
        }
        // Reads stay on (input is held, reads pause past MAX_HELD_BYTES): a client that leaves while its login
        // waits for a server is noticed on every transport.
        client.waitingForServer();
        checkout = pool.acquire(ctx.channel().eventLoop(), this);
    }

    /**
     * What relaying through a server takes (the response queue, the writer to the server, the client's prepared
     * statements), made when the client first holds a server: a client that logs in and sends nothing, or
     * only Terminate, never needs them (about 0.27 kB of heap per client).
     */
    private void relayState() {
        responses = new ResponseTracker(out);
        toServer = new MessageWriter(null, ctx.alloc());
        ClientStatements statements = new ClientStatements(client.runtime().statements(), prepared.maxPerClient());
        rewriter = new StatementRewriter(prepared.mode(), statements, prepared.maxPerServer(), this::sessionChanges,
                toServer, prepared.cachesUnnamed(), prepared.unnamedPlans(), new Replays());
        rewriter.countIn(client.traffic());
        client.preparedStatements(statements::size);
    }

    @Override
    public void checkedOut(ServerConnection acquired) {
        switch (state) {
            case LOGIN -> guarded(() -> loginServer(acquired));
            case CHECKOUT -> guarded(() -> attached(acquired));
            default -> pool.release(acquired); // the client left while its server was on the way
        }
    }

    @Override
    public void checkoutFailed(Throwable cause) {
        guarded(() -> checkoutEnded(cause));
    }

    private void checkoutEnded(Throwable cause) {
        switch (state) {
            case LOGIN -> {
                state = State.CLOSED;
                client.fatal(checkoutError(cause, true));
            }
            case CHECKOUT -> reportCheckoutFailure(cause);
            default -> { } // the client left while waiting
        }
    }

    // --- login: learn the parameters and validate the startup settings on a real server ---

    private void loginServer(ServerConnection first) {
        String setup = first.session().differences(settings.current());
        if (setup == null) {
            welcome(first);
            return;
        }
        ServerQuery.run(first, setup, ctx.channel().eventLoop()).addListener(applied -> guarded(() -> {
            if (state == State.CLOSED) {
                releaseOrDiscard(first, applied.isSuccess() && applied.getNow() == null);
            } else if (!applied.isSuccess()) {
                pool.discard(first, CloseReason.SERVER_GONE);
                state = State.CLOSED;
                client.fatal(SqlState.CONNECTION_FAILURE, "server closed the connection unexpectedly");
            } else if (applied.getNow() != null) {
                ErrorResponse error = (ErrorResponse) applied.getNow();
                releaseOrDiscard(first, true);
                state = State.CLOSED;
                client.fatal(error.code(), error.message()); // Postgres refuses bad startup settings the same way
            } else {
                welcome(first);
            }
        }));
    }

    private void welcome(ServerConnection first) {
        Map<String, String> reported = first.parameters();
        Map<String, String> normalised = settings.normalisedBy(reported);
        first.session().applied(normalised);
        ServerPool.LoginTemplate template = new ServerPool.LoginTemplate(reported, normalised);
        pool.rememberLogin(settings.startupKey(), template);
        pool.release(first);
        welcome(template);
    }

    /** Welcomes the client as a login with the same startup settings was: its settings, the server's parameters. */
    private void welcome(ServerPool.LoginTemplate template) {
        settings.welcomedWith(template.settings());
        byte[] parameterStatus = template.parameterStatus();
        out.write(ctx.alloc().ioBuffer(parameterStatus.length).writeBytes(parameterStatus));
        out.write(BackendCodec.encode(client.issueCancelKey(null), ctx.alloc()));
        out.write(BackendCodec.encode(ReadyForQuery.IDLE, ctx.alloc()));
        out.flush();
        client.welcomed();
        state = State.IDLE;
        drainHeld();
        if (state == State.IDLE) {
            clientReads(true);
        }
    }

    // --- client messages ---

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inClientRead = true;
        try {
            received((ByteBuf) msg, false);
        } finally {
            inClientRead = false;
        }
    }

    /**
     * Handles whole messages, back to back (one or many), and takes the buffer. Messages that go on
     * unchanged are gathered into one write to the server; from the first message that must wait for a
     * server, the rest of the batch is held as one piece.
     *
     * @param wasHeld the batch comes from {@link #held}: if it must wait again, it goes back in front
     */
    private void received(ByteBuf batch, boolean wasHeld) {
        int at = batch.readerIndex();
        int end = batch.writerIndex();
        try {
            while (at < end && !terminated) {
                int length = Frames.length(batch, at);
                requireWellFormed(batch.getByte(at), length);
                switch (state) {
                    case ATTACHED -> attachedMessage(batch, at, length);
                    case IDLE -> {
                        if (!idleMessage(batch, at)) {
                            hold(batch.retainedSlice(at, end - at), wasHeld);
                            startCheckout(); // may attach at once and take the held input back
                            return;
                        }
                    }
                    case LOGIN, CHECKOUT -> {
                        hold(batch.retainedSlice(at, end - at), wasHeld);
                        return;
                    }
                    case CLOSED -> {
                        return;
                    }
                }
                at += length;
            }
        } finally {
            if (toServer != null) {
                toServer.emit(); // what was gathered refers to this batch
            }
            batch.release();
        }
    }

    /**
     * A message type clients may send, and no Flush or Sync with bytes inside: Postgres answers those with an
     * error, and a Flush's error makes it skip to the next Sync, where pgmux owes the client no answer for the
     * Flush; the answers would no longer line up with the messages. pgmux refuses such a message itself.
     */
    private static void requireWellFormed(byte tag, int length) {
        requireFrontendMessage(tag);
        if ((tag == 'H' || tag == 'S') && length != Frames.HEADER) {
            throw new ProtocolException("invalid message format");
        }
    }

    /** Handles what needs no server; false if the message must wait for one. */
    private boolean idleMessage(ByteBuf batch, int at) {
        byte tag = batch.getByte(at);
        if (discardUntilSync && tag != Terminate.TAG) {
            if (tag == 'S' || tag == 'Q') {
                discardUntilSync = false;
                out.write(BackendCodec.encode(ReadyForQuery.IDLE, ctx.alloc()));
            }
            return true;
        }
        switch (tag) {
            case Terminate.TAG -> {
                terminated = true;
                ctx.close();
                return true;
            }
            case 'H' -> {
                return true; // Flush with nothing pending
            }
            default -> {
                return false;
            }
        }
    }

    /** Keeps input until a server is attached; bounded by pausing reads (login pauses them anyway). */
    private void hold(ByteBuf input, boolean inFront) {
        if (held == null) {
            held = new ArrayDeque<>(2);
        }
        if (inFront) {
            held.addFirst(input);
        } else {
            held.addLast(input);
        }
        heldBytes += input.readableBytes();
        if (heldBytes > MAX_HELD_BYTES) {
            clientReads(false);
        }
    }

    private void drainHeld() {
        while (held != null && !held.isEmpty() && (state == State.IDLE || state == State.ATTACHED)) {
            ByteBuf next = held.poll();
            heldBytes -= next.readableBytes();
            received(next, true);
        }
    }

    private void startCheckout() {
        ServerConnection idle = pool.tryAcquireIdle(ctx.channel().eventLoop());
        if (idle != null) {
            attached(idle);
            return;
        }
        state = State.CHECKOUT;
        client.waitingForServer();
        checkout = pool.acquire(ctx.channel().eventLoop(), this);
    }

    private void attached(ServerConnection acquired) {
        if (!client.attach(pool, acquired, this)) {
            state = State.IDLE;
            startCheckout(); // it closed on its way here; nothing was sent on it: take another
            return;
        }
        server = acquired;
        if (rewriter == null) {
            relayState();
        }
        toServer.target(server.outbound());
        rewriter.attach(server, responses);
        state = State.ATTACHED;
        String setup = server.session().differences(settings.snapshot());
        if (setup != null) {
            ServerConnection target = server;
            Map<String, String> applying = settings.snapshot();
            toServer.write(FrontendCodec.encode(new Query(setup), ctx.alloc()));
            responses.expect(Kind.QUERY, Delivery.SWALLOW, new StatementRewriter.QueryOutcome() {
                @Override
                void completed(boolean failed) {
                    if (!failed) {
                        target.session().applied(applying);
                    }
                }
            });
        }
        drainHeld();
        if (!inClientRead) {
            // Reached from the pool, or from input held at login: nothing else flushes what was sent.
            toServer.flush();
            out.flush();
            clientReads(true);
        }
        maybeRelease();
    }

    /** The client's connection stays usable: an error now, its pending batch dropped up to its Sync. */
    private void reportCheckoutFailure(Throwable cause) {
        state = State.IDLE;
        ErrorResponse error = checkoutError(cause, false);
        client.traffic().error(error.code());
        out.write(BackendCodec.encode(error, ctx.alloc()));
        discardUntilSync = true;
        drainHeld();
        out.flush();
        if (state == State.IDLE) {
            clientReads(true);
            endIfFarewell();
        }
    }

    private ErrorResponse checkoutError(Throwable cause, boolean fatal) {
        ErrorResponse error = switch (cause) {
            case CheckoutException e when e.timedOut() -> ClientErrors.checkoutTimeout(e, "Transaction");
            case UpstreamException e when e.serverError() != null -> e.serverError();
            default -> ErrorResponse.error(SqlState.CONNECTION_FAILURE, UpstreamException.forClient(cause));
        };
        var notice = error.notice().with(dev.pgmux.protocol.message.backend.Notice.SEVERITY, fatal ? "FATAL" : "ERROR")
                .with(dev.pgmux.protocol.message.backend.Notice.SEVERITY_NONLOCALIZED, fatal ? "FATAL" : "ERROR");
        return new ErrorResponse(notice);
    }

    private void attachedMessage(ByteBuf batch, int at, int length) {
        requestRead(length);
        if (somethingStalled()) {
            stall(batch.retainedSlice(at, length));
            return;
        }
        // A simple query's text is scanned once: whether it waits, passes through or is analysed follows from it.
        boolean analyse = queryNeedsAnalysis(batch, at, length);
        if (waitsForEarlierReplies(batch, at, analyse)) {
            stall(batch.retainedSlice(at, length));
        } else if (!passThrough(batch, at, length, analyse)) {
            process(batch.retainedSlice(at, length), analyse);
        }
    }

    /** Whether the message is a Query with a statement that may need {@link SqlCommands#analyze}. */
    private static boolean queryNeedsAnalysis(ByteBuf buf, int at, int length) {
        return buf.getByte(at) == 'Q' && SqlCommands.mayNeedAnalysis(buf, at + Frames.HEADER, length - Frames.HEADER - 1);
    }

    /**
     * The common case, without a frame of its own: a message that goes to the server as it is and needs
     * nothing from pgmux but its place in the response queue (what the unnamed statement and portals use,
     * Execute, Sync, a Query with nothing to analyse). Then it is gathered with its neighbours and true
     * returned; otherwise {@link #process} must handle it.
     */
    private boolean passThrough(ByteBuf batch, int at, int length, boolean analyse) {
        byte tag = batch.getByte(at);
        boolean cacheUnnamed = rewriter.cachesUnnamed();
        Kind kind = switch (tag) {
            case 'B' -> !cacheUnnamed && FrontendCodec.bindsUnnamedStatement(batch, at, length) ? Kind.BIND : null;
            case 'D' -> !FrontendCodec.describesPortalOrUnnamed(batch, at, length) ? null
                    : batch.getByte(at + Frames.HEADER) == 'P' ? Kind.DESCRIBE_PORTAL
                    : cacheUnnamed ? null : Kind.DESCRIBE_STATEMENT;
            case 'E' -> Kind.EXECUTE;
            case 'S' -> Kind.SYNC;
            case 'P' -> {
                if (cacheUnnamed) {
                    yield null;
                }
                int query = FrontendCodec.unnamedParseQuery(batch, at, length);
                yield query < 0 || SqlCommands.mayNeedAnalysis(batch, query, batch.indexOf(query, at + length, (byte) 0) - query)
                        ? null : Kind.PARSE;
            }
            case 'Q' -> analyse ? null : Kind.QUERY;
            default -> null;
        };
        if (kind == null) {
            return false;
        }
        rewriter.flushPendingParse();
        if (replay != null) {
            replay.add(batch.retainedSlice(at, length));
        }
        sequence.sent(tag);
        if (tag == 'Q' && cacheUnnamed) {
            rewriter.simpleQuerySent();
        }
        toServer.relay(batch, at, length);
        responses.expect(kind, Delivery.CLIENT);
        noteUnit(tag);
        return true;
    }

    /** Follows the current unit for the rewriter: whether anything was bound or executed, and where it ends. */
    private void noteUnit(byte tag) {
        switch (tag) {
            case 'B', 'E' -> unitBound = true;
            case 'S', 'Q' -> {
                unitBound = false;
                rewriter.unitEnded();
            }
            default -> { }
        }
    }

    /** @param analyse for a Query, what {@link #queryNeedsAnalysis} said of it */
    private void process(ByteBuf frame, boolean analyse) {
        byte tag = Frames.tag(frame);
        if (tag != 'P' && tag != 'B' && tag != 'D' && tag != 'C') {
            rewriter.flushPendingParse(); // those four decide themselves whether they answer a held-back Parse
        }
        if (replay != null) {
            replay.add(frame.retainedSlice());
        }
        boolean unitSettled = !sequence.executed() && responses.pendingUnits() == 0;
        rewriter.sequenceOpen(sequence.open(), unitSettled, unitSettled && !unitBound && replay == null
                && server.transactionStatus() == ReadyForQuery.IDLE.status());
        sequence.sent(tag);
        noteUnit(tag);
        switch (tag) {
            case 'Q' -> simpleQuery(frame, analyse);
            case 'P' -> {
                boolean settled = !sequence.executed() && server.transactionStatus() != ReadyForQuery.FAILED_TRANSACTION.status();
                rewriter.parse(frame, settled);
            }
            case 'B' -> rewriter.bind(frame);
            case 'D' -> rewriter.describe(frame);
            case 'C' -> rewriter.close(frame);
            case 'E' -> forward(frame, Kind.EXECUTE);
            case 'S' -> forward(frame, Kind.SYNC);
            case 'F' -> forward(frame, Kind.FUNCTION_CALL);
            case Terminate.TAG -> {
                frame.release();
                terminated = true;
                ctx.close();
            }
            default -> toServer.write(frame); // Flush, CopyData, CopyDone, CopyFail: no reply of their own
        }
    }

    /**
     * Whether handling this message depends on how earlier, still unanswered messages turn out: a named
     * statement's fate (a Parse that may fail, a Close that may be skipped) or the transaction status, which
     * the units before it (up to a Sync or Query) settle; and, for a Query pgmux may rewrite (EXECUTE,
     * DEALLOCATE, ...), whether the server will read it at all: after an error in an open extended sequence it
     * skips everything, Queries included, to the next Sync. Such a message waits; everything else is pipelined.
     */
    private boolean waitsForEarlierReplies(ByteBuf batch, int at, boolean analyse) {
        if (replay != null && replay.unitEnded()) {
            return true; // the unit before may have to be sent again first
        }
        return switch (batch.getByte(at)) {
            case 'P', 'B', 'C' -> responses.pendingUnits() > 0;
            case 'D' -> batch.getByte(at + Frames.HEADER) == 'S' && responses.pendingUnits() > 0;
            case 'Q' -> analyse && !responses.nothingOwed();
            default -> false;
        };
    }

    private boolean somethingStalled() {
        return stalled != null && !stalled.isEmpty();
    }

    /** Holds messages, in order and with reads paused, until the server has answered what came before. */
    private void stall(ByteBuf frame) {
        if (stalled == null) {
            stalled = new ArrayDeque<>(2);
        }
        if (stalled.isEmpty()) {
            askForExtendedReplies();
        }
        stalled.add(frame);
        clientReads(false);
    }

    /**
     * When only extended-protocol replies are owed, Postgres may keep them in its buffer until a Sync or Flush
     * the client has not sent (it sends it after the message that waits for them): ask for them.
     */
    private void askForExtendedReplies() {
        if (responses.pendingUnits() == 0 && !responses.nothingOwed()) {
            toServer.write(FrontendCodec.encode(Flush.INSTANCE, ctx.alloc()));
        }
    }

    private void replayStalled() {
        boolean sent = false;
        while (somethingStalled() && state == State.ATTACHED) {
            ByteBuf next = stalled.peek();
            boolean analyse = queryNeedsAnalysis(next, next.readerIndex(), next.readableBytes());
            if (waitsForEarlierReplies(next, next.readerIndex(), analyse)) {
                if (sent) {
                    askForExtendedReplies(); // what was just sent may be what the next message waits for
                }
                break;
            }
            process(stalled.poll(), analyse);
            sent = true;
        }
        if (server != null) {
            toServer.flush();
        }
        if (!somethingStalled()) {
            stalled = null;
            clientReads(true);
        }
    }

    /** @param analyse most queries are nothing pgmux cares about, decided from the bytes without a String */
    private void simpleQuery(ByteBuf frame, boolean analyse) {
        if (analyse) {
            String sql = StatementRewriter.decode(frame, FrontendCodec::decodeQuery).sql();
            List<SqlCommands.Command> commands = SqlCommands.analyze(sql);
            if (commands.size() == 1 && rewriter.query(commands.get(0))) {
                frame.release(); // a PREPARE, EXECUTE or DEALLOCATE mapped to pgmux's names
                return;
            }
            sessionChanges(SessionChanges.of(commands));
        }
        if (rewriter.cachesUnnamed()) {
            rewriter.simpleQuerySent();
        }
        forward(frame, Kind.QUERY);
    }

    private void forward(ByteBuf frame, Kind kind) {
        toServer.write(frame);
        responses.expect(kind, Delivery.CLIENT);
    }

    /**
     * Notes settings that SQL about to run may change; they are read back from the server at the end of
     * the unit. SQL that prepares or deallocates, as written, a statement under one of pgmux's own names
     * leaves the server unfit for other clients.
     */
    private void sessionChanges(SessionChanges changes) {
        if (changes.serverStatements() && server != null) {
            server.session().statementsAlteredByClient();
        }
        settings.note(changes);
    }

    // --- server responses ---

    @Override
    public void onServerMessage(ServerConnection from, ByteBuf batch, int index, int length) {
        if (from != server || state != State.ATTACHED) {
            return;
        }
        try {
            serverMessage(batch, index, length);
        } catch (RuntimeException e) {
            // A stalled message of the client's replayed here may be malformed: the client's error, not the server's.
            client.failed(e, log);
        }
    }

    private void serverMessage(ByteBuf batch, int index, int length) {
        byte tag = batch.getByte(index);
        relayed(length);
        if (tag == 'C') {
            noteCommand(batch, index, length);
        } else if (tag == ErrorResponse.TAG) {
            noteServerError(batch, index, length);
        }
        if (!responses.relay(batch, index, length)) {
            responses.onServerFrame(batch.retainedSlice(index, length)); // takes the frame
        }
        if (somethingStalled() && responses.pendingUnits() == 0) {
            replayStalled(); // also after an error: it may have unwound the unit being waited for
        }
        if (tag == ReadyForQuery.TAG) {
            readyForQuery(batch.getByte(index + length - 1));
            maybeRelease();
        }
    }

    /** DISCARD ALL and DEALLOCATE ALL, however they were sent, empty the server's statements. */
    private void noteCommand(ByteBuf batch, int index, int length) {
        int textLength = length - Frames.HEADER - 1;
        if (textLength != 11 && textLength != 14) {
            return;
        }
        String tag = batch.toString(index + Frames.HEADER, textLength, java.nio.charset.StandardCharsets.US_ASCII);
        ServerStatements held = server.session().existingStatements();
        if (tag.equals("DISCARD ALL")) {
            if (held != null) {
                held.clear();
            }
            server.session().settingsReset();
            rewriter.statements().clear();
            settings.discardAll();
        } else if (tag.equals("DEALLOCATE ALL")) {
            if (held != null) {
                held.clear();
            }
            rewriter.statements().clear();
        }
    }

    /** Releases the server when the client's unit of work is over and nothing is owed. */
    private void maybeRelease() {
        if (state != State.ATTACHED || !responses.idle() || sequence.open() || somethingStalled()
                || server.transactionStatus() != ReadyForQuery.IDLE.status()) {
            return;
        }
        if (settings.takeResetAll()) {
            server.session().settingsReset();
        }
        if (settings.readBackNeeded()) {
            readBackSettings();
            return;
        }
        ServerConnection done = client.detach();
        server = null;
        state = State.IDLE;
        rewriter.statements().serverReleased();
        rewriter.attach(null, null);
        toServer.target(null);
        out.flush(); // what this client is owed goes out before the server serves anyone else
        pool.release(done);
        clientReads(true); // in case the server had paused us
        endIfFarewell();
    }

    @Override
    public void endWhenIdle(ErrorResponse farewell) {
        this.farewell = farewell;
        if (state == State.IDLE) {
            endIfFarewell();
        }
    }

    /** In IDLE: a shutdown asked to end the client, and now it is idle; what follows in its batch is not read. */
    private void endIfFarewell() {
        if (farewell != null) {
            state = State.CLOSED;
            out.flush();
            client.farewell(farewell);
        }
    }

    /** Asks the server what the client's SET and RESET left, so the next server gets the same. */
    private void readBackSettings() {
        ClientSettings.ReadBack readBack = settings.takeReadBack();
        List<String> names = readBack.names();
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < names.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("pg_catalog.current_setting(")
                    .append(ServerSession.literal(names.get(i))).append(", true)");
        }
        ServerConnection target = server;
        toServer.write(FrontendCodec.encode(new Query(sql.toString()), ctx.alloc()));
        toServer.flush();
        responses.expect(Kind.QUERY, Delivery.SWALLOW, new StatementRewriter.QueryOutcome() {
            private List<String> values;

            @Override
            public void observe(ByteBuf frame) {
                super.observe(frame);
                if (Frames.tag(frame) == 'D') {
                    values = DataRows.textValues(frame);
                }
            }

            @Override
            void completed(boolean failed) {
                if (failed || values == null || values.size() != names.size()) {
                    log.warn("{}: could not read back settings {}; they may not follow this client", client, names);
                    return;
                }
                settings.readBack(readBack, values, target.session());
            }
        });
    }

    @Override
    public void onServerClosed(ServerConnection from, Throwable cause) {
        if (from != server) {
            return;
        }
        // Every client of a restarted upstream says so: once per repeat interval and pool, then a count.
        client.runtime().logs().repeats().info(log, "upstream connection lost (pool " + pool.key() + ")",
                "{}: upstream connection lost: {}", client, cause.getMessage());
        rewriter.abandonPendingParse();
        responses.abandon();
        client.detach();
        pool.discard(from, CloseReason.SERVER_GONE);
        server = null;
        state = State.CLOSED;
        endAfterServerLost();
    }

    // --- the client leaves ---

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State before = state;
        state = State.CLOSED;
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
            held = null;
        }
        heldBytes = 0;
        if (stalled != null) {
            stalled.forEach(ReferenceCountUtil::release);
            stalled = null;
        }
        countBytes();
        if ((before == State.CHECKOUT || before == State.LOGIN) && checkout != null) {
            checkout.cancel(); // a server already on its way comes back through checkedOut
        }
        ServerConnection left = client.detach();
        if (left != null) {
            server = null;
            if (!responses.idle()) {
                // The client left while its statement ran: cancel it upstream, so its locks go now.
                pool.abandon(left);
            } else {
                // Mid-transaction or mid-sequence the server's state belongs to nobody: close it.
                releaseOrDiscard(left, !sequence.open() && left.transactionStatus() == ReadyForQuery.IDLE.status());
            }
            responses.abandon();
        }
        if (rewriter != null) {
            rewriter.abandonPendingParse();
            rewriter.statements().clear();
            rewriter.statements().forgetUnnamed();
        }
        if (replay != null) {
            replay.release();
            replay = null;
        }
        if (pool != null) {
            client.runtime().pools().leave(pool);
        }
        client.released();
        ctx.fireChannelInactive();
    }

    private void releaseOrDiscard(ServerConnection target, boolean clean) {
        if (clean && target.isActive()) {
            pool.release(target);
        } else {
            pool.discard(target, CloseReason.CLIENT_LEFT_DIRTY);
        }
    }


    /** The rewriter's {@link StatementRewriter.Replays}: a unit kept here, sent again after a 0A000. */
    private final class Replays implements StatementRewriter.Replays {
        @Override
        public void record(ByteBuf message) {
            replay = new UnitReplay(message);
        }

        @Override
        public boolean recording() {
            return replay != null;
        }

        @Override
        public void answered(boolean again) {
            UnitReplay kept = replay;
            replay = null;
            if (kept == null) {
                return;
            }
            if (!again || state != State.ATTACHED) {
                kept.release();
                return;
            }
            // The server skips to the unit's Sync: its ReadyForQuery is pgmux's now (or pgmux sends the Sync,
            // if the client has not yet), then the unit goes again from the recorded message on.
            if (kept.unitEnded()) {
                responses.swallowNextReady();
            } else {
                toServer.write(FrontendCodec.encode(dev.pgmux.protocol.message.frontend.Sync.INSTANCE, ctx.alloc()));
                responses.expect(Kind.SYNC, Delivery.SWALLOW);
            }
            unitBound = false;
            rewriter.replaying();
            for (ByteBuf message : kept.take()) {
                process(message, queryNeedsAnalysis(message, message.readerIndex(), message.readableBytes()));
            }
            toServer.flush();
        }
    }

    @Override
    protected void flushToServer() {
        if (toServer != null) {
            toServer.flush(); // its target is the attached server, if any
        }
    }

    @Override
    protected ServerConnection relayingServer() {
        return state == State.ATTACHED ? server : null;
    }
}
