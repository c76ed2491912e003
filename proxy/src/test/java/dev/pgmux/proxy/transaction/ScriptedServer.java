package dev.pgmux.proxy.transaction;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.protocol.message.frontend.Close;
import dev.pgmux.protocol.message.frontend.Describe;
import dev.pgmux.protocol.message.frontend.Execute;
import dev.pgmux.protocol.message.frontend.FrontendCodec;
import dev.pgmux.protocol.message.frontend.Parse;
import dev.pgmux.proxy.server.ScriptedServers;
import dev.pgmux.proxy.server.ServerConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.pgmux.proxy.transaction.Messages.encoded;
import static dev.pgmux.proxy.transaction.Messages.commandComplete;
import static dev.pgmux.proxy.transaction.Messages.dataRow;
import static dev.pgmux.proxy.transaction.Messages.empty;
import static dev.pgmux.proxy.transaction.Messages.parameterDescription;
import static dev.pgmux.proxy.transaction.Messages.readyForQuery;
import static dev.pgmux.proxy.transaction.Messages.rowDescription;

/**
 * One Postgres backend, played at the protocol level: it reads what was written to its
 * {@link ServerConnection} (an {@link EmbeddedChannel}) and answers each message as Postgres does, in the
 * order Postgres checks things:
 *
 * <ul>
 *   <li>named statements per session: Parse adds (an existing name is {@code 42P05}), Close removes (a
 *       missing name is no error), Bind and Describe of a missing one are {@code 26000};</li>
 *   <li>the transaction status of the last ReadyForQuery: {@code BEGIN}, {@code COMMIT} (which answers
 *       {@code ROLLBACK} in a failed transaction) and {@code ROLLBACK} by their text; an error inside a
 *       transaction block fails it, and then everything but the statements that end it gets {@code 25P02};</li>
 *   <li>after an error in the extended protocol every message up to Sync is discarded unseen;</li>
 *   <li>{@code SELECT x} returns one row holding {@code x}, with {@code $n} replaced by the n-th bound value;
 *       other statements return no rows;</li>
 *   <li>scripted errors: a query {@linkplain #rejects rejected} wherever it is parsed, one that
 *       {@linkplain #failsWhenRun fails when run}, and statements whose {@linkplain #resultTypeChanged result type
 *       changed} (DDL), whose Bind fails with {@code 0A000} until they are prepared again.</li>
 * </ul>
 *
 * Everything it received is kept, one line per message ({@link Messages#frontendLine}), for tests to check.
 */
final class ScriptedServer {
    static final String IN_FAILED_TRANSACTION = "current transaction is aborted, commands ignored until end of transaction block";
    static final String CACHED_PLAN_CHANGED = "cached plan must not change result type";

    private static final Pattern PARAMETER = Pattern.compile("\\$(\\d+)");
    private static final Pattern SQL_PREPARE = Pattern.compile("(?is)PREPARE\\s+(\"[^\"]*\"|\\w+)\\s*(?:\\(([^)]*)\\))?\\s*AS\\s+(.*)");
    private static final Pattern SQL_EXECUTE = Pattern.compile("(?is)EXECUTE\\s+(\"[^\"]*\"|\\w+)\\s*(?:\\((.*)\\))?");
    private static final Pattern SQL_DEALLOCATE = Pattern.compile("(?is)DEALLOCATE\\s+(?:PREPARE\\s+)?(\"[^\"]*\"|\\w+)");

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ServerConnection connection = ScriptedServers.connection(channel);
    /** Prepared statements by name; "" is the unnamed statement. */
    private final Map<String, Statement> statements = new LinkedHashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final Map<String, ErrorResponse> rejected = new HashMap<>();
    private final Map<String, ErrorResponse> failing = new HashMap<>();
    private final List<String> received = new ArrayList<>();
    private char status = 'I';
    /** An error in the extended protocol: discarding messages until Sync. */
    private boolean skipping;
    private ByteBuf out;

    private static final class Statement {
        final String query;
        final int[] parameterTypes;
        boolean resultTypeChanged;

        Statement(String query, int[] parameterTypes) {
            this.query = query;
            this.parameterTypes = parameterTypes;
        }

        /** Declared types, or text for a {@code $n} with none declared. */
        int[] parameters() {
            int count = parameterTypes.length;
            Matcher matcher = PARAMETER.matcher(query);
            while (matcher.find()) {
                count = Math.max(count, Integer.parseInt(matcher.group(1)));
            }
            int[] types = java.util.Arrays.copyOf(parameterTypes, count);
            for (int i = parameterTypes.length; i < count; i++) {
                types[i] = 25;
            }
            return types;
        }
    }

    private record Portal(Statement statement, List<String> values) {}

    /** An error answered in place of a message. */
    private static final class Failure extends RuntimeException {
        final ErrorResponse error;

        Failure(ErrorResponse error) {
            super(error.message(), null, false, false);
            this.error = error;
        }

        Failure(String sqlState, String message) {
            this(ErrorResponse.error(sqlState, message));
        }
    }

    ServerConnection connection() {
        return connection;
    }

    /** {@code query} fails wherever it is parsed (Parse, or in a simple Query), as a syntax error would. */
    ScriptedServer rejects(String query, String sqlState, String message) {
        rejected.put(query, ErrorResponse.error(sqlState, message));
        return this;
    }

    /** {@code query} parses but fails when it runs (Execute, or in a simple Query), as a division by zero would. */
    ScriptedServer failsWhenRun(String query, String sqlState, String message) {
        failing.put(query, ErrorResponse.error(sqlState, message));
        return this;
    }

    /** DDL changed what {@code query} returns: the statements prepared for it so far fail at Bind with 0A000. */
    void resultTypeChanged(String query) {
        statements.values().stream().filter(statement -> statement.query.equals(query))
                .forEach(statement -> statement.resultTypeChanged = true);
    }

    /** The names of the statements this session holds (not the unnamed one). */
    Set<String> statementNames() {
        Set<String> names = new TreeSet<>(statements.keySet());
        names.remove("");
        return names;
    }

    /** The transaction status of the last ReadyForQuery. */
    char status() {
        return status;
    }

    /** The messages received since the last call, one line each. */
    List<String> received() {
        List<String> lines = List.copyOf(received);
        received.clear();
        return lines;
    }

    /** Answers every message written to the connection so far: the answers, back to back, as one read. */
    ByteBuf answer(ByteBufAllocator allocator) {
        out = allocator.buffer();
        try {
            for (Object written; (written = channel.readOutbound()) != null; ) {
                ByteBuf buf = (ByteBuf) written;
                byte[] bytes;
                try {
                    bytes = ByteBufUtil.getBytes(buf);
                } finally {
                    buf.release();
                }
                for (byte[] message : Messages.split(bytes)) {
                    handle(message);
                }
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        } finally {
            out = null;
        }
    }

    /** Ends the connection; true if anything written to it was never answered (it is released). */
    boolean finish() {
        boolean unread = channel.finish();
        channel.finishAndReleaseAll();
        return unread;
    }

    private void handle(byte[] message) {
        received.add(Messages.frontendLine(message));
        char tag = (char) message[0];
        if (tag == 'S') {
            skipping = false;
            endOfUnit();
            return;
        }
        if (skipping || tag == 'H') {
            return;
        }
        ByteBuf frame = Unpooled.wrappedBuffer(message);
        try {
            switch (tag) {
                case 'P' -> parse(FrontendCodec.decodeParse(frame));
                case 'B' -> bind(Messages.BoundValues.of(message));
                case 'D' -> describe(FrontendCodec.decodeDescribe(frame));
                case 'E' -> execute(FrontendCodec.decodeExecute(frame));
                case 'C' -> close(FrontendCodec.decodeClose(frame));
                case 'Q' -> query(FrontendCodec.decodeQuery(frame).sql());
                default -> throw new AssertionError("the scripted server has no answer to " + Messages.frontendLine(message));
            }
        } catch (Failure failure) {
            send(encoded(failure.error));
            if (status == 'T') {
                status = 'E';
            }
            if (tag == 'Q') {
                endOfUnit();
            } else {
                skipping = true;
            }
        }
    }

    /** ReadyForQuery; outside a transaction block the implicit transaction ends, and its portals with it. */
    private void endOfUnit() {
        if (status == 'I') {
            portals.clear();
        }
        send(readyForQuery(status));
    }

    private void parse(Parse parse) {
        String query = parse.query();
        if (parse.name().isEmpty()) {
            statements.remove(""); // dropped before parsing, whatever follows
        }
        checkParses(query);
        if (!parse.name().isEmpty() && statements.containsKey(parse.name())) {
            throw new Failure(SqlState.DUPLICATE_PREPARED_STATEMENT, "prepared statement \"" + parse.name() + "\" already exists");
        }
        statements.put(parse.name(), new Statement(query, parse.parameterTypes()));
        send(empty('1'));
    }

    /** What Postgres checks while parsing: the syntax, then whether the transaction lets it parse anything. */
    private void checkParses(String query) {
        ErrorResponse error = rejected.get(query);
        if (error != null) {
            throw new Failure(error);
        }
        if (status == 'E' && !endsTransaction(query)) {
            throw new Failure(SqlState.IN_FAILED_SQL_TRANSACTION, IN_FAILED_TRANSACTION);
        }
    }

    private void bind(Messages.BoundValues bind) {
        Statement statement = statement(bind.statement());
        int required = statement.parameters().length;
        if (bind.values().size() != required) {
            throw new Failure(SqlState.PROTOCOL_VIOLATION, "bind message supplies " + bind.values().size()
                    + " parameters, but prepared statement \"" + bind.statement() + "\" requires " + required);
        }
        if (status == 'E' && (!endsTransaction(statement.query) || required != 0)) {
            throw new Failure(SqlState.IN_FAILED_SQL_TRANSACTION, IN_FAILED_TRANSACTION);
        }
        if (statement.resultTypeChanged) {
            throw new Failure(cachedPlanChanged());
        }
        if (!bind.portal().isEmpty() && portals.containsKey(bind.portal())) {
            throw new Failure("42P03", "cursor \"" + bind.portal() + "\" already exists");
        }
        portals.put(bind.portal(), new Portal(statement, bind.values()));
        send(empty('2'));
    }

    private void describe(Describe describe) {
        if (describe.isStatement()) {
            Statement statement = statement(describe.name());
            // Postgres describes statements that return no rows even in a failed transaction.
            if (status == 'E' && returnsRows(statement.query)) {
                throw new Failure(SqlState.IN_FAILED_SQL_TRANSACTION, IN_FAILED_TRANSACTION);
            }
            send(parameterDescription(statement.parameters()));
            send(returnsRows(statement.query) ? rowDescription("?column?") : empty('n'));
        } else {
            Portal portal = portal(describe.name());
            if (status == 'E' && returnsRows(portal.statement().query)) {
                throw new Failure(SqlState.IN_FAILED_SQL_TRANSACTION, IN_FAILED_TRANSACTION);
            }
            send(returnsRows(portal.statement().query) ? rowDescription("?column?") : empty('n'));
        }
    }

    private void execute(Execute execute) {
        Portal portal = portal(execute.portal());
        if (status == 'E' && !endsTransaction(portal.statement().query)) {
            throw new Failure(SqlState.IN_FAILED_SQL_TRANSACTION, IN_FAILED_TRANSACTION);
        }
        run(portal.statement().query, portal.values(), false);
    }

    private void close(Close close) {
        if (close.isStatement()) {
            statements.remove(close.name());
        } else {
            portals.remove(close.name());
        }
        send(empty('3'));
    }

    private void query(String sql) {
        statements.remove(""); // a simple Query drops the unnamed statement
        List<String> parts = new ArrayList<>();
        for (String part : sql.split(";")) {
            if (!part.isBlank()) {
                parts.add(part.strip());
            }
        }
        if (parts.isEmpty()) {
            send(empty('I'));
        }
        for (String part : parts) {
            checkParses(part);
            if (!sqlPreparedStatements(part)) {
                run(part, List.of(), true);
            }
        }
        endOfUnit();
    }

    /** PREPARE, EXECUTE and DEALLOCATE in a simple Query; false for anything else. */
    private boolean sqlPreparedStatements(String sql) {
        Matcher prepare = SQL_PREPARE.matcher(sql);
        Matcher execute = SQL_EXECUTE.matcher(sql);
        Matcher deallocate = SQL_DEALLOCATE.matcher(sql);
        if (prepare.matches()) {
            String name = identifier(prepare.group(1));
            if (statements.containsKey(name)) {
                throw new Failure(SqlState.DUPLICATE_PREPARED_STATEMENT, "prepared statement \"" + name + "\" already exists");
            }
            checkParses(prepare.group(3).strip());
            statements.put(name, new Statement(prepare.group(3).strip(), new int[0]));
            send(commandComplete("PREPARE"));
        } else if (execute.matches()) {
            Statement statement = statement(identifier(execute.group(1)));
            if (statement.resultTypeChanged) {
                throw new Failure(cachedPlanChanged());
            }
            List<String> values = new ArrayList<>();
            if (execute.group(2) != null) {
                for (String value : execute.group(2).split(",")) {
                    values.add(value.strip().replaceAll("^'|'$", ""));
                }
            }
            run(statement.query, values, true);
        } else if (sql.equalsIgnoreCase("DEALLOCATE ALL")) {
            statements.keySet().removeIf(name -> !name.isEmpty());
            send(commandComplete("DEALLOCATE ALL"));
        } else if (deallocate.matches()) {
            String name = identifier(deallocate.group(1));
            statement(name);
            statements.remove(name);
            send(commandComplete("DEALLOCATE"));
        } else {
            return false;
        }
        return true;
    }

    /** Runs one statement: its rows (described first in a simple Query) and CommandComplete. */
    private void run(String query, List<String> values, boolean describeRows) {
        ErrorResponse error = failing.get(query);
        if (error != null) {
            throw new Failure(error);
        }
        String command = words(query, 1).toUpperCase(Locale.ROOT);
        String tag = switch (command) {
            case "" -> null;
            case "BEGIN", "START" -> {
                if (status == 'I') {
                    status = 'T';
                }
                yield command.equals("BEGIN") ? "BEGIN" : "START TRANSACTION";
            }
            case "COMMIT", "END" -> {
                boolean failed = status == 'E';
                status = 'I';
                yield failed ? "ROLLBACK" : "COMMIT";
            }
            case "ROLLBACK", "ABORT" -> {
                status = 'I';
                yield "ROLLBACK";
            }
            case "SELECT" -> {
                if (describeRows) {
                    send(rowDescription("?column?"));
                }
                String value = query.substring("SELECT".length()).strip();
                Matcher parameter = PARAMETER.matcher(value);
                StringBuilder row = new StringBuilder();
                while (parameter.find()) {
                    parameter.appendReplacement(row, Matcher.quoteReplacement(values.get(Integer.parseInt(parameter.group(1)) - 1)));
                }
                parameter.appendTail(row);
                send(dataRow(row.toString()));
                yield "SELECT 1";
            }
            case "INSERT" -> "INSERT 0 1";
            case "UPDATE", "DELETE" -> command + " 1";
            default -> command;
        };
        send(tag == null ? empty('I') : commandComplete(tag));
    }

    private Statement statement(String name) {
        Statement statement = statements.get(name);
        if (statement == null) {
            throw new Failure(SqlState.INVALID_SQL_STATEMENT_NAME, name.isEmpty() ? "unnamed prepared statement does not exist"
                    : "prepared statement \"" + name + "\" does not exist");
        }
        return statement;
    }

    private Portal portal(String name) {
        Portal portal = portals.get(name);
        if (portal == null) {
            throw new Failure("34000", "portal \"" + name + "\" does not exist");
        }
        return portal;
    }

    private static ErrorResponse cachedPlanChanged() {
        return new ErrorResponse(Notice.of("ERROR", SqlState.FEATURE_NOT_SUPPORTED, CACHED_PLAN_CHANGED)
                .with(Notice.FILE, "plancache.c").with(Notice.ROUTINE, "RevalidateCachedQuery"));
    }

    /** COMMIT, END, ROLLBACK, ABORT (not their PREPARED forms): what a failed transaction still accepts. */
    static boolean endsTransaction(String query) {
        String[] words = words(query, 2).toLowerCase(Locale.ROOT).split(" ");
        return switch (words[0]) {
            case "commit", "end", "rollback", "abort" -> words.length == 1 || !words[1].equals("prepared");
            default -> false;
        };
    }

    private static boolean returnsRows(String query) {
        return words(query, 1).equalsIgnoreCase("SELECT") || query.toUpperCase(Locale.ROOT).contains(" RETURNING ");
    }

    /** The first {@code count} words of a statement, separated by one space. */
    private static String words(String query, int count) {
        String[] words = query.strip().split("\\s+", count + 1);
        return String.join(" ", java.util.Arrays.copyOf(words, Math.min(count, words.length)));
    }

    private static String identifier(String name) {
        return name.startsWith("\"") ? name.substring(1, name.length() - 1) : name.toLowerCase(Locale.ROOT);
    }

    private void send(byte[] message) {
        out.writeBytes(message);
    }

    @Override
    public String toString() {
        return "scripted " + connection;
    }
}
