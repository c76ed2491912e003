package dev.pgmux.proxy.console;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.frame.ProtocolException;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.BackendKeyData;
import dev.pgmux.protocol.message.frontend.Bind;
import dev.pgmux.protocol.message.frontend.Close;
import dev.pgmux.protocol.message.frontend.Describe;
import dev.pgmux.protocol.message.frontend.Execute;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.protocol.message.frontend.Query;
import dev.pgmux.proxy.client.ClientConnection;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A console connection after its login: answers simple queries (psql) and the extended protocol (pgjdbc,
 * node-postgres: Parse, Bind, Describe, Execute, Sync, Close, Flush) with the console's results. Nothing
 * reaches a server. While a command waits (PAUSE, WAIT_CLOSE) what the client sends next is held, and its
 * reads pause.
 */
public final class ConsoleHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConsoleHandler.class);
    private static final short[] TEXT = new short[0];

    private record Statement(Command command, int[] parameterTypes) {}

    private static final class Portal {
        final Command command;
        final short[] formats;
        Result result;
        int sent;

        Portal(Command command, short[] formats) {
            this.command = command;
            this.formats = formats;
        }
    }

    private final ClientConnection client;
    private final Console.User user;
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    /** Frames read while a command waits, handled once it has answered. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private CommandRunner runner;
    private ByteBuf out;
    /** After an error in an extended-protocol sequence, everything up to Sync is dropped. */
    private boolean skipToSync;
    private Result.Later waiting;

    public ConsoleHandler(ClientConnection client, Console.User user) {
        this.client = client;
        this.user = user;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.runner = new CommandRunner(client.runtime(), user,
                new ConsoleCommands(client.runtime(), client, ctx.executor()));
        client.runtime().console().opened(client, user);
        ByteBuf welcome = out();
        for (String[] parameter : new String[][] {{"server_version", dev.pgmux.proxy.PgmuxVersion.get() + "/pgmux"},
                {"client_encoding", "UTF8"}, {"server_encoding", "UTF8"}, {"DateStyle", "ISO"}, {"TimeZone", "GMT"},
                {"standard_conforming_strings", "on"}, {"is_superuser", user.role() == Console.Role.ADMIN ? "on" : "off"},
                {"integer_datetimes", "on"}}) {
            Wire.parameterStatus(welcome, parameter[0], parameter[1]);
        }
        BackendKeyData key = client.issueCancelKey(null);
        BackendCodec.encode(key, welcome);
        Wire.readyForQuery(welcome);
        flush();
        client.welcomed();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (waiting != null) {
            held.add(frame);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        try {
            handle(frame);
        } finally {
            frame.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flush();
    }

    private void handle(ByteBuf frame) {
        byte tag = Frames.tag(frame);
        if (skipToSync && tag != 'S' && tag != 'X') {
            return;
        }
        switch (tag) {
            case Query.TAG -> query(FrontendCodec.decodeQuery(frame).sql());
            case Parse.TAG -> parse(FrontendCodec.decodeParse(frame));
            case Bind.TAG -> bind(FrontendCodec.decodeBind(frame), resultFormats(frame));
            case Describe.TAG -> describe(FrontendCodec.decodeDescribe(frame));
            case Execute.TAG -> execute(FrontendCodec.decodeExecute(frame));
            case Close.TAG -> close(FrontendCodec.decodeClose(frame));
            case 'S' -> sync();
            case 'H' -> flush();
            case 'X' -> ctx.close();
            default -> throw new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                    "unsupported packet type for admin console: " + (char) tag);
        }
    }

    private void query(String sql) {
        Command command = Command.parse(sql);
        log.debug("{}: console query {}", client, sql);
        if (command != null && command.isEmpty()) {
            Wire.empty(out(), 'I');
            Wire.readyForQuery(out());
            return;
        }
        Result result = command == null ? CommandRunner.syntaxError(sql) : runner.run(command);
        answer(result, () -> {
            if (result instanceof Result.Rows rows) {
                Wire.rowDescription(out(), rows.columns(), TEXT);
            }
        }, TEXT, 0, null, true);
    }

    private void parse(Parse parse) {
        Command command = Command.parse(parse.query());
        if (command == null) {
            error(CommandRunner.syntaxError(parse.query()));
            return;
        }
        if (!parse.name().isEmpty() && statements.containsKey(parse.name())) {
            error(new Result.Failed("42P05", "prepared statement \"" + parse.name() + "\" already exists"));
            return;
        }
        statements.put(parse.name(), new Statement(command, parse.parameterTypes()));
        Wire.empty(out(), '1');
    }

    private void bind(Bind bind, short[] formats) {
        Statement statement = statements.get(bind.statement());
        if (statement == null) {
            error(new Result.Failed(SqlState.INVALID_SQL_STATEMENT_NAME,
                    "prepared statement \"" + bind.statement() + "\" does not exist"));
            return;
        }
        portals.put(bind.portal(), new Portal(statement.command(), formats));
        Wire.empty(out(), '2');
    }

    private void describe(Describe describe) {
        Command command;
        short[] formats;
        if (describe.isStatement()) {
            Statement statement = statements.get(describe.name());
            if (statement == null) {
                error(new Result.Failed(SqlState.INVALID_SQL_STATEMENT_NAME,
                        "prepared statement \"" + describe.name() + "\" does not exist"));
                return;
            }
            Wire.parameterDescription(out(), statement.parameterTypes());
            command = statement.command();
            formats = TEXT;
        } else {
            Portal portal = portals.get(describe.name());
            if (portal == null) {
                error(new Result.Failed("34000", "portal \"" + describe.name() + "\" does not exist"));
                return;
            }
            command = portal.command;
            formats = portal.formats;
        }
        List<Column> columns = runner.columns(command);
        if (columns == null) {
            Wire.empty(out(), 'n');
        } else {
            Wire.rowDescription(out(), columns, formats);
        }
    }

    private void execute(Execute execute) {
        Portal portal = portals.get(execute.portal());
        if (portal == null) {
            error(new Result.Failed("34000", "portal \"" + execute.portal() + "\" does not exist"));
            return;
        }
        if (portal.command.isEmpty()) {
            Wire.empty(out(), 'I');
            return;
        }
        if (portal.result == null) {
            portal.result = runner.run(portal.command);
        }
        answer(portal.result, () -> { }, portal.formats, execute.maxRows(), portal, false);
    }

    private void close(Close close) {
        if (close.isStatement()) {
            statements.remove(close.name());
        } else {
            portals.remove(close.name());
        }
        Wire.empty(out(), '3');
    }

    private void sync() {
        skipToSync = false;
        portals.remove("");
        Wire.readyForQuery(out());
        flush();
    }

    /**
     * Writes a result: rows (from the portal's position, at most {@code maxRows} when not 0), a notice and
     * CommandComplete, or an error. A result that comes later is written when it comes; till then nothing
     * else is read. {@code header} writes what precedes the rows (the simple protocol's RowDescription).
     */
    private void answer(Result result, Runnable header, short[] formats, int maxRows, Portal portal, boolean simple) {
        switch (result) {
            case Result.Rows rows -> {
                header.run();
                int from = portal == null ? 0 : portal.sent;
                int to = maxRows > 0 ? Math.min(rows.rows().size(), from + maxRows) : rows.rows().size();
                for (int i = from; i < to; i++) {
                    Wire.dataRow(out(), rows.columns(), rows.rows().get(i), formats);
                }
                if (portal != null) {
                    portal.sent = to;
                }
                if (to < rows.rows().size()) {
                    Wire.empty(out(), 's'); // PortalSuspended: the next Execute goes on from here
                } else {
                    Wire.commandComplete(out(), rows.tag());
                }
            }
            case Result.Done done -> {
                if (done.notice() != null) {
                    Wire.notice(out(), done.notice());
                }
                Wire.commandComplete(out(), done.tag());
            }
            case Result.Failed failed -> {
                if (simple) {
                    Wire.error(out(), failed.sqlState(), failed.message()); // ReadyForQuery follows
                } else {
                    error(failed);
                }
            }
            case Result.Closing closing -> {
                flush();
                return; // the process is going away; the admin hears it close
            }
            case Result.Later later -> {
                flush();
                waiting = later;
                later.result().whenComplete((value, e) -> ctx.executor().execute(() -> {
                    if (waiting != later || !ctx.channel().isActive()) {
                        return;
                    }
                    waiting = null;
                    if (portal != null) {
                        portal.result = value;
                    }
                    answer(value, header, formats, maxRows, portal, simple);
                    flush();
                    resume();
                }));
                return;
            }
        }
        if (simple) {
            Wire.readyForQuery(out());
        }
    }

    /** Handles what arrived while a command waited, then reads on. */
    private void resume() {
        while (waiting == null && !held.isEmpty()) {
            ByteBuf frame = held.poll();
            try {
                handle(frame);
            } catch (RuntimeException e) {
                exceptionCaught(ctx, e);
                return;
            } finally {
                frame.release();
            }
        }
        flush();
        if (waiting == null) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** An error in an extended-protocol sequence: the rest of it, up to Sync, is dropped (as Postgres does). */
    private void error(Result.Failed failed) {
        Wire.error(out(), failed.sqlState(), failed.message());
        skipToSync = true;
    }

    /** The result-column format codes at the end of a Bind (none: all text). */
    private static short[] resultFormats(ByteBuf frame) {
        ByteBuf in = Frames.payload(frame);
        Frames.readCString(in);
        Frames.readCString(in);
        in.skipBytes(2 * in.readShort());
        int parameters = in.readShort();
        for (int i = 0; i < parameters; i++) {
            int length = in.readInt();
            if (length > 0) {
                in.skipBytes(length);
            }
        }
        short[] formats = new short[in.readShort()];
        for (int i = 0; i < formats.length; i++) {
            formats[i] = in.readShort();
        }
        return formats;
    }

    private ByteBuf out() {
        if (out == null) {
            out = ctx.alloc().buffer(256);
        }
        return out;
    }

    private void flush() {
        if (out != null) {
            ByteBuf written = out;
            out = null;
            ctx.writeAndFlush(written, ctx.voidPromise());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (waiting != null) {
            waiting.result().cancel(false);
            waiting = null;
        }
        held.forEach(ByteBuf::release);
        held.clear();
        if (out != null) {
            out.release();
            out = null;
        }
        client.runtime().console().closed(client);
        client.released();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        client.failed(cause, log);
    }
}
