package dev.pgmux.proxy.auth;

import dev.pgmux.config.AuthQueryConfig;
import dev.pgmux.config.TenantConfig;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.frontend.Execute;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.protocol.message.frontend.Sync;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.server.Credentials;
import dev.pgmux.proxy.server.ServerConnection;
import dev.pgmux.proxy.server.ServerConnector;
import dev.pgmux.proxy.server.ServerListener;
import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.tls.UpstreamTlsContext;
import dev.pgmux.proxy.server.UpstreamException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of a tenant's {@code auth_query}: a connection of its own to the tenant's upstream (its
 * {@code upstream.database}), logged in as {@code auth_user}, one extended-protocol query with the user name
 * bound as parameter {@code $1} (never spliced into the text), then closed. Nothing waits for it on a thread:
 * the result completes a future on the event loop it ran on.
 *
 * <p>The result is the stored password of the query's first row (its second column), empty when the query
 * returned no row or NULL. A failure (upstream unreachable, auth_user refused, the query failed, no answer
 * within {@code connect_timeout} for the login and again for the query) fails the future with a
 * {@link Failed} whose message says what went wrong, never a secret.
 */
public final class AuthQuery implements ServerListener {

    /** A lookup that could not say whether the user exists. */
    public static final class Failed extends Exception {
        public Failed(String message) {
            super(message, null, false, false);
        }
    }

    private final EventLoop loop;
    private final CompletableFuture<Optional<String>> result = new CompletableFuture<>();
    private ServerConnection server;
    private ScheduledFuture<?> timeout;
    private String password;
    private boolean rowSeen;
    private int columns;
    private ErrorResponse error;

    private AuthQuery(EventLoop loop) {
        this.loop = loop;
    }

    /** Where the lookups of a tenant log in: its upstream and database, as {@code auth_user}, with its pools' TLS. */
    public static ServerTarget target(TenantConfig tenant, AuthQueryConfig auth, Credentials credentials,
                                      UpstreamTlsContext tls) {
        String database = tenant.upstream().database();
        return new ServerTarget(new PoolKey(tenant.id(), database, auth.user().name()), tenant.upstream().host(),
                tenant.upstream().port(), database, auth.user().name(), credentials, tenant.connectTimeout(), tls);
    }

    /** Runs {@code sql} for {@code user} on a new connection to {@code target}, from {@code loop}. */
    public static CompletableFuture<Optional<String>> run(ServerConnector connector, EventLoop loop, ServerTarget target,
                                                          String sql, String user) {
        AuthQuery query = new AuthQuery(loop);
        if (!target.canLogIn()) {
            query.result.completeExceptionally(new Failed("auth_user \"" + target.user() + "\" cannot log in upstream "
                    + "yet: pgmux holds only the SCRAM-SHA-256 verifier of its password, and the key to log in with "
                    + "comes from a login of auth_user as a client of the tenant (none since pgmux started)"));
            return query.result;
        }
        ServerConnection server = new ServerConnection(target);
        connector.connect(loop, server).addListener((Future<ServerConnection> f) -> {
            if (f.isSuccess()) {
                query.send(server, sql, user, target);
            } else {
                query.result.completeExceptionally(new Failed(reason(f.cause())));
            }
        });
        return query.result;
    }

    private static String reason(Throwable cause) {
        if (cause instanceof UpstreamException e && e.serverError() != null) {
            return "auth_user refused: " + e.serverError().code() + " " + e.serverError().message();
        }
        return cause.getMessage();
    }

    private void send(ServerConnection server, String sql, String user, ServerTarget target) {
        this.server = server;
        server.attach(this);
        timeout = loop.schedule(() -> finish(new Failed("no answer to auth_query within "
                + target.connectTimeout().toMillis() + "ms")), target.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ByteBuf out = server.channel().alloc().buffer(64 + sql.length() + user.length());
        FrontendCodec.encode(new Parse("", sql, new int[0]), out);
        FrontendCodec.encodeBind(out, "", "", user);
        FrontendCodec.encode(new Execute("", 1), out);
        FrontendCodec.encode(Sync.INSTANCE, out);
        server.writeAndFlush(out);
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public void onServerFrame(ServerConnection server, ByteBuf frame) {
        try {
            switch (Frames.tag(frame)) {
                case 'D' -> dataRow(frame);
                case 'E' -> {
                    if (error == null) {
                        error = (ErrorResponse) BackendCodec.decode(frame);
                    }
                }
                case 'Z' -> finish(null);
                default -> { } // ParseComplete, BindComplete, CommandComplete, notices
            }
        } finally {
            frame.release();
        }
    }

    /** The first row's second column; the first column is the user name, as PgBouncer's query returns it. */
    private void dataRow(ByteBuf frame) {
        if (rowSeen) {
            return;
        }
        rowSeen = true;
        ByteBuf row = Frames.payload(frame);
        columns = row.readShort();
        if (columns < 2) {
            return; // answered at ReadyForQuery
        }
        int nameLength = row.readInt();
        if (nameLength > 0) {
            row.skipBytes(nameLength);
        }
        int length = row.readInt();
        password = length < 0 ? null : row.readCharSequence(length, StandardCharsets.UTF_8).toString();
    }

    private void finish(Failed failure) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (failure != null) {
            result.completeExceptionally(failure);
        } else if (error != null) {
            result.completeExceptionally(new Failed("auth_query failed: " + error.code() + " " + error.message()));
        } else if (rowSeen && columns < 2) {
            result.completeExceptionally(new Failed("auth_query must return two columns (user name, password)"));
        } else {
            result.complete(Optional.ofNullable(password).filter(p -> !p.isEmpty()));
        }
        server.attach(null);
        server.close();
    }

    @Override
    public void onServerClosed(ServerConnection server, Throwable cause) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        result.completeExceptionally(new Failed("the upstream closed the connection during auth_query: "
                + cause.getMessage()));
    }
}
