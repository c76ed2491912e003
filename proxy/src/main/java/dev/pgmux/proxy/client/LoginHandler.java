package dev.pgmux.proxy.client;

import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.config.PoolMode;
import dev.pgmux.config.TlsMode;
import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.auth.Md5Password;
import dev.pgmux.protocol.auth.ScramException;
import dev.pgmux.protocol.auth.ScramServerSession;
import dev.pgmux.protocol.frame.FrameDecoder;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.Authentication;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendMessage;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.NegotiateProtocolVersion;
import dev.pgmux.protocol.message.frontend.CancelRequest;
import dev.pgmux.protocol.message.frontend.PeerCancelRequest;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.FrontendMessage;
import dev.pgmux.protocol.message.frontend.GssEncRequest;
import dev.pgmux.protocol.message.frontend.SaslInitialResponse;
import dev.pgmux.protocol.message.frontend.SslRequest;
import dev.pgmux.protocol.message.frontend.StartupMessage;
import dev.pgmux.protocol.message.frontend.Terminate;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.auth.AuthQuery;
import dev.pgmux.proxy.console.ConsoleHandler;
import dev.pgmux.proxy.console.ConsoleLogin;
import dev.pgmux.proxy.server.Credentials;
import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.tenant.TenantRegistry;
import dev.pgmux.proxy.transaction.TransactionModeHandler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * A client from its first byte until it is authenticated:
 *
 * <pre>
 *   [SSLRequest -> 'S' + TLS handshake | 'N'] [GSSENCRequest -> 'N']
 *   StartupMessage -> (NegotiateProtocolVersion) -> tenant resolved, max_clients checked
 *   [at this instance's share of a cluster's max_clients -> waits for the next lease sync, once]
 *   [user not listed, tenant with auth_query -> looked up upstream (cached), the login waiting meanwhile]
 *   -> AuthenticationSASL -> SASLInitialResponse -> AuthenticationSASLContinue
 *   -> SASLResponse -> AuthenticationSASLFinal + AuthenticationOk -> hand over to the pooling mode
 *   (a user known by an MD5 hash only, logging in with its plain name:
 *   AuthenticationMD5Password -> PasswordMessage -> AuthenticationOk -> hand over)
 *   CancelRequest (on its own connection) -> forwarded to the matching client's server, then closed
 * </pre>
 *
 * The whole phase is bounded by limits.login_timeout. Failed logins never open a server connection.
 */
public final class LoginHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(LoginHandler.class);

    private enum State { STARTUP, LEASE, LOOKUP, SASL_INITIAL, SASL_CONTINUE, MD5_PASSWORD, DONE }

    /** Startup parameters that are pgmux's business, not session settings to copy to a server. */
    private static final List<String> NOT_SETTINGS = List.of("user", "database", "options", "replication");

    private final ProxyRuntime runtime;
    private final FrameDecoder decoder;
    private final PoolMode mode;
    private ClientConnection client;
    private State state = State.STARTUP;
    private ScramServerSession scram;
    /** The salt of the AuthenticationMD5Password sent. */
    private byte[] md5Salt;
    private String startupUser;
    /** A login to the admin console (database pgbouncer or pgmux), or null. */
    private ConsoleLogin console;
    private ScheduledFuture<?> timeout;

    /** The client this handler logs in; made when the handler joins the pipeline. */
    ClientConnection client() {
        return client;
    }

    public LoginHandler(ProxyRuntime runtime, FrameDecoder decoder, PoolMode mode) {
        this.runtime = runtime;
        this.decoder = decoder;
        this.mode = mode;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        client = new ClientConnection(ctx.channel(), runtime, mode);
        runtime.clients().add(client);
        long nanos = runtime.config().limits().loginTimeout().toNanos();
        timeout = ctx.executor().schedule(() -> {
            log.debug("{}: login timeout", client);
            State before = state;
            state = State.DONE;
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            if (before == State.STARTUP) {
                ctx.close(); // no (whole) startup packet: Postgres hangs up without a word too
            } else if (tls != null && !tls.handshakeFuture().isDone()) {
                ctx.close(); // nothing can be written before the handshake: just hang up
            } else {
                client.fatal(SqlState.PROTOCOL_VIOLATION, "canceling authentication due to timeout");
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (state == State.DONE) {
            frame.release(); // refused or cancelled: the connection is closing
            return;
        }
        try {
            switch (state) {
                case STARTUP -> startupPacket(ctx, FrontendCodec.decodeStartup(frame));
                case SASL_INITIAL -> {
                    if (isTerminate(frame)) {
                        ctx.close();
                    } else {
                        saslInitial(ctx, FrontendCodec.decodeSaslInitialResponse(frame));
                    }
                }
                case SASL_CONTINUE -> {
                    if (isTerminate(frame)) {
                        ctx.close();
                    } else {
                        saslFinal(ctx, FrontendCodec.decodeSaslResponse(frame).data());
                    }
                }
                case MD5_PASSWORD -> {
                    if (isTerminate(frame)) {
                        ctx.close();
                    } else {
                        md5Password(ctx, FrontendCodec.decodePassword(frame).password());
                    }
                }
                case LEASE, LOOKUP -> {
                    if (isTerminate(frame)) {
                        ctx.close();
                    } else {
                        throw new ProtocolException("unexpected message before the authentication request");
                    }
                }
                case DONE -> throw new IllegalStateException("handled above");
            }
        } catch (ProtocolException e) {
            fail(e.sqlState(), e.getMessage());
        } finally {
            frame.release();
        }
    }

    private static boolean isTerminate(ByteBuf frame) {
        return Frames.tag(frame) == Terminate.TAG;
    }

    private void startupPacket(ChannelHandlerContext ctx, FrontendMessage message) {
        switch (message) {
            case SslRequest request -> sslRequest(ctx);
            case GssEncRequest request -> ctx.writeAndFlush(oneByte(ctx, 'N'));
            case CancelRequest cancel -> cancel(ctx, cancel.processId(), cancel.secretKey(), true);
            case PeerCancelRequest cancel -> {
                runtime.peerCancels().received();
                cancel(ctx, cancel.processId(), cancel.secretKey(), false); // passed on to nobody
            }
            case StartupMessage startup -> startup(ctx, startup);
            default -> throw new ProtocolException("unexpected startup packet");
        }
    }

    /**
     * A cancel request's connection: the client holding the key has its statement cancelled; with no such client
     * here, a client's own request goes to the other instances (behind a load balancer it may land on any).
     */
    private void cancel(ChannelHandlerContext ctx, int processId, int secretKey, boolean toPeers) {
        ClientConnection target = runtime.cancels().find(processId, secretKey);
        if (target != null) {
            target.cancel();
        } else if (toPeers) {
            runtime.peerCancels().forward(ctx.channel().eventLoop(), processId, secretKey);
        }
        cancelTimeout();
        state = State.DONE;
        ctx.close();
    }

    private void sslRequest(ChannelHandlerContext ctx) {
        boolean tlsOn = runtime.clientTls() != null && ctx.pipeline().get(SslHandler.class) == null;
        if (!tlsOn) {
            ctx.writeAndFlush(oneByte(ctx, 'N'));
            return;
        }
        if (decoder.bufferedBytes() > 0) {
            // Plaintext sent after SSLRequest would be read as if it came over TLS (CVE-2021-23214).
            throw new ProtocolException("received unencrypted data after SSL request");
        }
        ctx.writeAndFlush(oneByte(ctx, 'S'));
        ctx.pipeline().addFirst("tls", runtime.clientTls().newHandler(ctx.alloc()));
    }

    /** The answer to SSLRequest or GSSENCRequest, in the transport's own (direct) memory: no copy on write. */
    private static ByteBuf oneByte(ChannelHandlerContext ctx, char answer) {
        return ctx.alloc().ioBuffer(1, 1).writeByte(answer);
    }

    /** The {@code _pq_.*} protocol options the client asked for (pgmux supports none); no allocation when none. */
    private static List<String> protocolOptions(StartupMessage startup) {
        List<String> options = List.of();
        for (String name : startup.parameters().keySet()) {
            if (name.startsWith("_pq_.")) {
                if (options.isEmpty()) {
                    options = new ArrayList<>();
                }
                options.add(name);
            }
        }
        return options;
    }

    private void startup(ChannelHandlerContext ctx, StartupMessage startup) {
        decoder.startupDone();
        List<String> unsupported = protocolOptions(startup);
        if (startup.minorVersion() > 0 || !unsupported.isEmpty()) {
            ctx.write(BackendCodec.encode(new NegotiateProtocolVersion(0, unsupported), ctx.alloc()));
        }
        if (startup.parameters().containsKey("replication")
                && !"false".equalsIgnoreCase(startup.parameters().get("replication"))) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported by pgmux");
        }
        client.startupReceived();
        refuseIfShuttingDown();
        startupUser = startup.user();
        if (startupUser == null || startupUser.isEmpty()) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet");
        }
        client.loginName(startupUser);
        Map<String, String> settings = new LinkedHashMap<>();
        startup.parameters().forEach((name, value) -> {
            if (!NOT_SETTINGS.contains(name) && !name.startsWith("_pq_.")) {
                settings.put(name, value);
            }
        });
        String options = startup.parameters().get("options");
        if (options != null) {
            settings.putAll(StartupOptions.parse(options));
        }
        client.sessionParameters(settings);

        String database = startup.parameters().get("database");
        boolean listenerRequiresTls = runtime.config().tls().mode() == TlsMode.REQUIRED;
        if (ConsoleConfig.isConsoleDatabase(database)) {
            requireTlsIf(ctx, listenerRequiresTls);
            console = ConsoleLogin.start(runtime, startupUser);
            client.database(database);
            scram = console.scram();
            send(ctx, new Authentication.Sasl(ScramServerSession.mechanisms()));
            ctx.flush();
            state = State.SASL_INITIAL;
            return;
        }
        switch (runtime.tenants().resolve(startupUser)) {
            case TenantRegistry.Resolution.NotFound notFound -> {
                requireTlsIf(ctx, listenerRequiresTls);
                throw new ProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "Tenant or user not found");
            }
            case TenantRegistry.Resolution.Found found -> {
                // The tenant's own rules, before its users are looked at: they say nothing about which users exist.
                requireTlsIf(ctx, found.tenant().config().access().requireTls().orElse(listenerRequiresTls));
                refuseIfNotAllowed(found.tenant());
                admit(ctx, found, startup, 0);
            }
        }
    }

    /** How long a login waits for its tenant's share of max_clients to grow before it is refused. */
    private static final java.time.Duration LEASE_WAIT = java.time.Duration.ofSeconds(1);

    /**
     * Counts the client against its tenant's max_clients and goes on to authentication. With several instances,
     * a tenant at this instance's share of max_clients may get a larger share from the next lease syncs (when
     * the others have room): the login waits for them, up to {@link #LEASE_WAIT}, then is refused if there is
     * still no room.
     *
     * @param waitingSince when this login began to wait for a lease (System.nanoTime), 0 if it has not
     */
    private void admit(ChannelHandlerContext ctx, TenantRegistry.Resolution.Found found, StartupMessage startup,
                       long waitingSince) {
        Tenant tenant = found.tenant();
        if (!tenant.tryAddClient()) {
            var leases = runtime.leases();
            long now = System.nanoTime();
            boolean mayWait = waitingSince == 0 || now - waitingSince < LEASE_WAIT.toNanos();
            if (mayWait && leases != null && leases.valid() && tenant.clientLimitByLease()) {
                state = State.LEASE;
                long since = waitingSince == 0 ? now : waitingSince;
                EventLoop loop = ctx.channel().eventLoop();
                tenant.loginWaiting(true); // the next sync asks for a slot more
                leases.afterNextSync(() -> loop.execute(() -> {
                    tenant.loginWaiting(false);
                    if (state != State.LEASE || !ctx.channel().isActive()) {
                        return; // timed out, or the client left
                    }
                    state = State.STARTUP;
                    try {
                        admit(ctx, found, startup, since);
                    } catch (ProtocolException e) {
                        fail(e.sqlState(), e.getMessage());
                    } catch (RuntimeException e) {
                        exceptionCaught(ctx, e);
                    }
                }), LEASE_WAIT.minusNanos(now - since));
                return;
            }
            if (leases != null && !leases.valid()) {
                throw new ProtocolException(SqlState.CANNOT_CONNECT_NOW, "this pgmux instance holds no share of the "
                        + "tenant's max_clients: it cannot reach its metadata database to lease one");
            }
            throw new ProtocolException(SqlState.TOO_MANY_CONNECTIONS, "Max client connections reached");
        }
        client.tenant(tenant);
        client.database(database(startup, tenant));
        Tenant.User known = tenant.configuredUser(found.userName());
        if (known == null && tenant.looksUpUsers()) {
            lookUp(ctx, tenant, found.userName());
        } else {
            challenge(ctx, known);
        }
    }

    /**
     * Asks the client to authenticate as {@code known}: SCRAM against its secret, MD5 against its hash when
     * that is all pgmux knows, or (null: no such user) a mock SCRAM exchange that fails as a wrong password does.
     */
    private void challenge(ChannelHandlerContext ctx, Tenant.User known) {
        Tenant.User user = known;
        if (known != null && known.secret() == null) {
            if (startupUser.equals(known.name())) {
                client.user(known);
                md5Salt = new byte[4];
                runtime.random().nextBytes(md5Salt);
                send(ctx, new Authentication.Md5Password(md5Salt));
                ctx.flush();
                state = State.MD5_PASSWORD;
                return;
            }
            // libpq would hash the password with "name.tenant", not the name the stored hash was made with.
            log.debug("{}: user {} is known by an MD5 hash only, which cannot check a login as name.tenant; "
                    + "refused as a wrong password", client, known.name());
            user = null;
        }
        client.user(user);
        scram = user == null
                ? ScramServerSession.mock(startupUser, runtime.mockScramKey(), runtime.random())
                : ScramServerSession.forSecret(user.secret(), runtime.random());
        send(ctx, new Authentication.Sasl(ScramServerSession.mechanisms()));
        ctx.flush();
        state = State.SASL_INITIAL;
    }

    private static void requireTlsIf(ChannelHandlerContext ctx, boolean required) {
        if (required && ctx.pipeline().get(SslHandler.class) == null) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "SSL connection is required: connect with sslmode=require");
        }
    }

    /**
     * The tenant's allow_list, with the text Supavisor uses, and the address as the client's own network shows it
     * (or as the PROXY protocol header of the load balancer in front named it).
     */
    private void refuseIfNotAllowed(Tenant tenant) {
        if (client.remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
                && !tenant.allows(remote.getAddress())) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "Address not in tenant allow_list: " + remote.getAddress().getHostAddress());
        }
    }

    /**
     * A user the tenant does not list: its auth_query says who it is (or the cache does), without blocking the
     * event loop: the login goes on when the answer comes back. A lookup that fails ends the login with 08006.
     */
    private void lookUp(ChannelHandlerContext ctx, Tenant tenant, String name) {
        state = State.LOOKUP;
        AuthQueryConfig auth = tenant.config().authQuery().orElseThrow();
        ServerTarget target = AuthQuery.target(tenant.config(), auth, tenant.authUser().credentials(),
                runtime.pools().upstreamTls(tenant.config().upstream().tls()));
        EventLoop loop = ctx.channel().eventLoop();
        tenant.lookUp(name, n -> AuthQuery.run(runtime.connector(), loop, target, auth.query(), n))
                .whenComplete((found, failure) -> {
                    if (loop.inEventLoop()) {
                        lookedUp(ctx, tenant, found, failure);
                    } else {
                        loop.execute(() -> lookedUp(ctx, tenant, found, failure));
                    }
                });
    }

    private void lookedUp(ChannelHandlerContext ctx, Tenant tenant, Tenant.User found, Throwable failure) {
        if (state != State.LOOKUP || !ctx.channel().isActive()) {
            return; // timed out, or the client left
        }
        if (failure != null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            fail(SqlState.CONNECTION_FAILURE, "authentication lookup failed for tenant " + tenant.id() + ": "
                    + cause.getMessage());
            return;
        }
        try {
            challenge(ctx, found);
        } catch (RuntimeException e) {
            exceptionCaught(ctx, e);
        }
    }

    /** libpq defaults the database to the user name, which here carries the tenant suffix: use the tenant's then. */
    private String database(StartupMessage startup, Tenant tenant) {
        String database = startup.parameters().get("database");
        if (database == null || database.isEmpty() || database.equals(startupUser)) {
            return tenant.config().upstream().database();
        }
        return database;
    }

    private void saslInitial(ChannelHandlerContext ctx, SaslInitialResponse response) {
        if (response.data() == null) {
            throw new ProtocolException("malformed SCRAM message (empty client-first-message)");
        }
        try {
            String serverFirst = scram.handleClientFirst(response.mechanism(), response.data());
            send(ctx, new Authentication.SaslContinue(serverFirst.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            ctx.flush();
            state = State.SASL_CONTINUE;
        } catch (ScramException e) {
            scramFailed(e);
        }
    }

    private void saslFinal(ChannelHandlerContext ctx, byte[] clientFinal) {
        byte[] serverFinal;
        try {
            serverFinal = scram.handleClientFinal(clientFinal);
        } catch (ScramException e) {
            scramFailed(e);
            return;
        }
        if (client.user() != null && client.user().credentials() instanceof Credentials.ScramVerifier verifier) {
            verifier.clientKey().remember(scram.clientKey()); // SCRAM passthrough: now pgmux can log in upstream
        }
        cancelTimeout();
        state = State.DONE;
        refuseIfShuttingDown();
        // Not flushed: like Postgres, pgmux sends these with the ParameterStatus messages, BackendKeyData
        // and ReadyForQuery that the pooling handler writes next (or with the error that ends the login),
        // in one send: the client has nothing to do before ReadyForQuery anyway. When the client must wait
        // for a server first, the pooling handler flushes them at the end of this read.
        ByteBuf out = ctx.alloc().buffer(64); // both in one buffer: one write, one entry in the outbound queue
        try {
            BackendCodec.encode(new Authentication.SaslFinal(serverFinal), out);
            BackendCodec.encode(Authentication.Ok.INSTANCE, out);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        ctx.write(out, ctx.voidPromise());
        authenticated(ctx);
    }

    /** The answer to AuthenticationMD5Password, checked against the user's stored hash. */
    private void md5Password(ChannelHandlerContext ctx, String answer) {
        if (!Md5Password.verify(client.user().md5Hash(), md5Salt, answer)) {
            throw new ProtocolException(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + startupUser + "\"");
        }
        cancelTimeout();
        state = State.DONE;
        refuseIfShuttingDown();
        send(ctx, Authentication.Ok.INSTANCE); // not flushed: it goes with the welcome, as after SCRAM
        authenticated(ctx);
    }

    /** The client proved who it is: on to the console or the pooling mode. */
    private void authenticated(ChannelHandlerContext ctx) {
        if (console != null) {
            if (console.user() == null) {
                fail(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, ConsoleLogin.notAllowed(startupUser));
            } else {
                log.debug("{} logged in to the admin console", client);
                ctx.pipeline().replace(this, "console", new ConsoleHandler(client, console.user()));
            }
            return;
        }
        if (!client.tenant().config().allowedDatabases().contains(client.database())) {
            // As Postgres answers an authenticated client: the tenant's other databases are none of its business.
            fail(SqlState.INVALID_CATALOG_NAME, "database \"" + client.database() + "\" does not exist");
            return;
        }
        log.debug("{} authenticated", client);
        PoolMode userMode = client.tenant().poolMode(client.user().name());
        if (userMode != null) {
            client.mode(userMode);
        }
        if (client.mode() == PoolMode.TRANSACTION) {
            decoder.batchMessages(); // most of what it sends goes on unchanged: in one write per read
        }
        ctx.pipeline().replace(this, "pooling", switch (client.mode()) {
            case SESSION -> new SessionModeHandler(client);
            case TRANSACTION -> new TransactionModeHandler(client);
        });
    }

    /** A login under way when pgmux starts shutting down ends here, with 57P03. */
    private void refuseIfShuttingDown() {
        if (!runtime.clients().admitting()) {
            ErrorResponse refusal = ClientErrors.shuttingDown();
            throw new ProtocolException(refusal.code(), refusal.message());
        }
    }

    private void scramFailed(ScramException e) {
        if (e.kind() == ScramException.Kind.INVALID_PROOF) {
            throw new ProtocolException(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + startupUser + "\"");
        }
        throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, e.getMessage());
    }

    private void send(ChannelHandlerContext ctx, BackendMessage message) {
        ctx.write(BackendCodec.encode(message, ctx.alloc()), ctx.voidPromise());
    }

    private void fail(String sqlState, String message) {
        cancelTimeout();
        state = State.DONE;
        log.debug("{}: login refused: {} {}", client, sqlState, message);
        client.fatal(sqlState, message);
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimeout();
        client.released();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        cancelTimeout();
        boolean protocolError = cause instanceof ProtocolException
                || (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof ProtocolException);
        if (state != State.DONE && protocolError) {
            state = State.DONE;
            client.failed(cause, log);
        } else {
            // A failed TLS handshake or a reset during login: the client's problem, not worth a warning.
            log.debug("{}: closing during login: {}", client, cause.toString());
            state = State.DONE;
            ctx.close();
        }
    }
}
