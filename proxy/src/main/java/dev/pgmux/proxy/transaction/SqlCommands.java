package dev.pgmux.proxy.transaction;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.pgmux.proxy.transaction.SqlLexer.isIdentCont;
import static dev.pgmux.proxy.transaction.SqlLexer.isIdentStart;
import static dev.pgmux.proxy.transaction.SqlLexer.isSpace;
import static dev.pgmux.proxy.transaction.SqlLexer.skipSpaceAndComments;
import static dev.pgmux.proxy.transaction.SqlLexer.skipToken;

/**
 * Recognises the few session-level SQL commands that transaction pooling must carry from one server
 * connection to the next: SET/RESET of a parameter, PREPARE/EXECUTE/DEALLOCATE, and DISCARD ALL.
 *
 * <p>This is a lexer, not a parser. It follows Postgres' lexical rules closely enough to know where
 * statements start (a ';' inside a string, quoted identifier, dollar quote or comment is not a
 * separator) and then reads the first few tokens of each statement. It assumes
 * {@code standard_conforming_strings} is on (the default since Postgres 9.1): a backslash escapes a
 * quote only inside {@code E'...'}.
 *
 * <p>A statement is split at every such ';', which is also where Postgres splits, except inside the
 * parentheses of a multi-action {@code CREATE RULE} and a {@code BEGIN ATOMIC ... END} function body:
 * those come out as several {@link Command.Other}s.
 */
public final class SqlCommands {
    /** Postgres truncates identifiers to NAMEDATALEN - 1 bytes. */
    private static final int MAX_IDENTIFIER_BYTES = 63;

    /** Statements up to this size are scanned in a per-thread array; longer ones, rare, in one of their own. */
    static final int SCRATCH_BYTES = 8192;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[SCRATCH_BYTES];
        }
    };

    private SqlCommands() {}

    /**
     * Fast pre-check on the raw bytes of a query string (UTF-8, no trailing NUL, given as
     * {@code buf[from, from + length)}; indexes are absolute, the buffer's indexes are not touched):
     * true when some statement in it may start with SET, RESET, PREPARE, EXECUTE, DEALLOCATE or
     * DISCARD, in any case. False positives are allowed (the caller then calls {@link #analyze});
     * false negatives are not: whenever {@code analyze} finds a command other than
     * {@link Command.Other}, this is true. Allocates nothing for statements up to
     * {@link #SCRATCH_BYTES} (in a direct buffer, when Netty may use {@code sun.misc.Unsafe}).
     */
    public static boolean mayNeedAnalysis(ByteBuf buf, int from, int length) {
        if (length <= 0) {
            return false; // nothing, or a malformed message the server will refuse
        }
        if (buf.hasArray()) {
            return mayNeedAnalysis(buf.array(), buf.arrayOffset() + from, length);
        }
        // Every query passes here: one copy into an array, then plain loops, costs far less than a
        // ByteBuf access (with its bounds and liveness checks) per byte of a direct buffer.
        byte[] bytes = length <= SCRATCH_BYTES ? SCRATCH.get() : new byte[length];
        buf.getBytes(from, bytes, 0, length); // a memory copy when Netty may use Unsafe (see scripts/jdk.sh)
        return mayNeedAnalysis(bytes, 0, length);
    }

    private static boolean mayNeedAnalysis(byte[] b, int from, int length) {
        int end = from + length;
        int i = skipSpaceAndComments(b, from, end);
        if (i < end && startsWithKeyword(b, i, end)) {
            return true;
        }
        // Almost every query is a single statement: with no ';' at all there is no other statement start,
        // nor when nothing but blanks and comments follows the first ';' (a trailing one, as most drivers send).
        int semicolon = i < end ? SqlLexer.indexOf(b, i, end, (byte) ';') : -1;
        if (semicolon < 0 || skipSpaceAndComments(b, semicolon + 1, end) >= end) {
            return false;
        }
        boolean statementStart = false;
        while (i < end) {
            if (b[i] == ';') {
                statementStart = true;
                i++;
            } else if (statementStart && startsWithKeyword(b, i, end)) {
                return true;
            } else {
                statementStart = false;
                i = skipToken(b, i, end);
            }
            i = skipSpaceAndComments(b, i, end);
        }
        return false;
    }

    /**
     * Splits {@code sql} into statements and classifies each; empty statements are dropped. Never
     * throws: anything this does not recognise, malformed input included, is {@link Command.Other}.
     */
    public static List<Command> analyze(String sql) {
        if (sql == null || sql.isEmpty()) {
            return List.of();
        }
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        Cursor all = new Cursor(bytes, 0, bytes.length);
        List<Command> commands = new ArrayList<>();
        int first = -1;
        int last = -1;
        for (;;) {
            boolean more = all.next();
            if (more && !all.isChar(';')) {
                if (first < 0) {
                    first = all.start;
                }
                last = all.stop;
                continue;
            }
            if (first >= 0) {
                commands.add(classify(bytes, first, last));
                first = -1;
            }
            if (!more) {
                break;
            }
        }
        if (all.unterminated) {
            // Postgres rejects the whole query string when a literal or comment is not closed: nothing in it runs.
            commands.replaceAll(command -> new Command.Other(command.text()));
        }
        return commands;
    }

    /** Classifies one statement, {@code bytes[from, to)} from its first token to the end of its last. */
    private static Command classify(byte[] bytes, int from, int to) {
        String text = new String(bytes, from, to - from, StandardCharsets.UTF_8);
        Command command;
        try {
            Cursor c = new Cursor(bytes, from, to);
            c.next();
            String keyword = c.word();
            command = keyword == null ? null : switch (keyword) {
                case "set" -> set(c, text);
                case "reset" -> reset(c, text);
                case "prepare" -> prepare(c, text);
                case "execute" -> execute(c, text);
                case "deallocate" -> deallocate(c, text);
                case "discard" -> c.next() && c.isWord("all") && !c.next() ? new Command.DiscardAll(text) : null;
                default -> null;
            };
        } catch (RuntimeException e) {
            command = null; // a classifier bug must not fail the client's query: the caller just sees Other
        }
        return command != null ? command : new Command.Other(text);
    }

    /** SET [ SESSION | LOCAL ] ...: only the forms that change a parameter for the rest of the session. */
    private static Command set(Cursor c, String text) {
        if (!c.next() || c.isWord("local")) {
            return null; // SET LOCAL ends with the transaction
        }
        // SESSION is the (default) scope unless it starts SESSION AUTHORIZATION or SESSION CHARACTERISTICS.
        if (c.isWord("session") && !isOneOf(c.peekWord(), "authorization", "characteristics") && !c.next()) {
            return null;
        }
        String first = c.word();
        String name = c.dottedName();
        if (name == null) {
            return null;
        }
        if ((c.isChar('=') || c.isWord("to")) && c.next()) {
            return new Command.SetParameter(text, name);
        }
        if (c.isWord("from") && c.next() && c.isWord("current") && !c.next()) {
            return new Command.SetParameter(text, name);
        }
        if (!name.equals(first)) {
            return null; // the special forms below start with an unquoted keyword
        }
        String parameter = switch (first) {
            case "time" -> c.isWord("zone") && c.next() ? "TimeZone" : null;
            case "schema" -> c.has ? "search_path" : null;
            case "names" -> "client_encoding"; // SET NAMES alone sets the default encoding
            case "role" -> c.has ? "role" : null;
            case "session" -> c.isWord("authorization") && c.next() ? "session_authorization" : null;
            case "xml" -> c.isWord("option") && c.next() ? "xmloption" : null;
            default -> null; // TRANSACTION, SESSION CHARACTERISTICS, CONSTRAINTS: not session state
        };
        return parameter == null ? null : new Command.SetParameter(text, parameter);
    }

    /** RESET name | RESET ALL | RESET TIME ZONE | RESET SESSION AUTHORIZATION */
    private static Command reset(Cursor c, String text) {
        String first = c.next() ? c.word() : null;
        String name = c.dottedName();
        if (name == null) {
            return null;
        }
        if (name.equals(first) && first.equals("all")) {
            return c.has ? null : new Command.ResetAll(text);
        }
        String parameter = !name.equals(first) ? name : switch (first) {
            case "time" -> c.isWord("zone") && !c.next() ? "TimeZone" : null;
            case "session" -> c.isWord("authorization") && !c.next() ? "session_authorization" : null;
            case "transaction" -> null; // RESET TRANSACTION ISOLATION LEVEL: transaction state
            default -> name;
        };
        return parameter == null || c.has ? null : new Command.SetParameter(text, parameter);
    }

    /** PREPARE name [ ( type [, ...] ) ] AS statement */
    private static Command prepare(Cursor c, String text) {
        c.next();
        String name = c.name();
        int afterName = c.stop;
        if (name == null || !c.next()) {
            return null;
        }
        // Also rules out PREPARE TRANSACTION 'gid', which is two-phase commit.
        if (!c.isChar('(') && !(c.isWord("as") && c.next())) {
            return null;
        }
        return new Command.Prepare(text, name, c.restFrom(afterName));
    }

    /** EXECUTE name [ ( arg [, ...] ) ] */
    private static Command execute(Cursor c, String text) {
        c.next();
        String name = c.name();
        int afterName = c.stop;
        if (name == null || (c.next() && !c.isChar('('))) {
            return null;
        }
        return new Command.Execute(text, name, c.restFrom(afterName));
    }

    /** DEALLOCATE [ PREPARE ] { name | ALL } */
    private static Command deallocate(Cursor c, String text) {
        if (c.next() && c.isWord("prepare") && c.hasNext()) {
            c.next(); // "DEALLOCATE prepare" alone deallocates a statement named prepare
        }
        boolean all = c.isWord("all");
        String name = c.name();
        if (name == null || c.next()) {
            return null;
        }
        return all ? new Command.DeallocateAll(text) : new Command.Deallocate(text, name);
    }

    private static boolean isOneOf(String word, String a, String b) {
        return a.equals(word) || b.equals(word);
    }

    /** Whether the word at {@code i} is one of the six keywords; compares bytes so as not to allocate. */
    private static boolean startsWithKeyword(byte[] b, int i, int end) {
        if (!isIdentStart(b[i])) {
            return false;
        }
        int j = i + 1;
        while (j < end && j - i <= 10 && isIdentCont(b[j])) {
            j++;
        }
        return switch (j - i) {
            case 3 -> matches(b, i, "set");
            case 5 -> matches(b, i, "reset");
            case 7 -> matches(b, i, "prepare") || matches(b, i, "execute") || matches(b, i, "discard");
            case 10 -> matches(b, i, "deallocate");
            default -> false;
        };
    }

    /** ASCII case-insensitive; {@code | 0x20} lower-cases letters and {@code keyword} is all letters. */
    private static boolean matches(byte[] b, int i, String keyword) {
        for (int k = 0; k < keyword.length(); k++) {
            if ((b[i + k] | 0x20) != keyword.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Walks the tokens of {@code bytes[from, to)} for {@link #analyze}; the current token is {@code [start, stop)}. */
    private static final class Cursor {
        private final byte[] bytes;
        private final int end;
        private int pos;
        int start;
        int stop;
        /** Whether there is a current token (false once past the last one). */
        boolean has;
        /** Set once a literal, quoted identifier or block comment runs past the end. */
        boolean unterminated;

        Cursor(byte[] bytes, int from, int to) {
            this.bytes = bytes;
            this.end = to;
            this.pos = from;
        }

        boolean next() {
            int s = skipSpaceAndComments(bytes, pos, end);
            if (s >= end) {
                unterminated |= s > end;
                pos = start = stop = end;
                return has = false;
            }
            int e = skipToken(bytes, s, end);
            unterminated |= e > end;
            start = s;
            pos = stop = Math.min(e, end);
            return has = true;
        }

        boolean hasNext() {
            return skipSpaceAndComments(bytes, pos, end) < end;
        }

        /** The next token's {@link #word()}, without moving. */
        String peekWord() {
            Cursor ahead = new Cursor(bytes, pos, end);
            return ahead.next() ? ahead.word() : null;
        }

        boolean isChar(char c) {
            return stop - start == 1 && bytes[start] == c;
        }

        boolean isWord(String keyword) {
            return keyword.equals(word());
        }

        /** The current token lower-cased when it is an unquoted word (a keyword or a name), else null. */
        String word() {
            if (start >= stop || !isIdentStart(bytes[start])) {
                return null;
            }
            byte[] folded = new byte[stop - start];
            for (int k = start; k < stop; k++) {
                byte c = bytes[k];
                if (!isIdentCont(c)) {
                    return null; // an E'...' string
                }
                folded[k - start] = c >= 'A' && c <= 'Z' ? (byte) (c + ('a' - 'A')) : c; // Postgres folds ASCII only
            }
            return identifier(folded, folded.length);
        }

        /** The current token as an identifier (an unquoted word, or a non-empty "quoted" one as written), else null. */
        String name() {
            if (stop - start < 3 || bytes[start] != '"' || bytes[stop - 1] != '"') {
                return word();
            }
            byte[] unquoted = new byte[stop - start];
            int n = 0;
            for (int k = start + 1; k < stop - 1; k++) {
                unquoted[n++] = bytes[k];
                if (bytes[k] == '"') {
                    k++; // "" stands for "
                }
            }
            return identifier(unquoted, n);
        }

        /** name [ . name ... ] as in custom parameter names; leaves the cursor on the token after it. */
        String dottedName() {
            String name = name();
            if (name == null) {
                return null;
            }
            StringBuilder dotted = new StringBuilder(name);
            while (next() && isChar('.')) {
                String part = next() ? name() : null;
                if (part == null) {
                    return null;
                }
                dotted.append('.').append(part);
            }
            return dotted.toString();
        }

        /** The statement's text from {@code from} to its end, leading whitespace skipped. */
        String restFrom(int from) {
            while (from < end && isSpace(bytes[from])) {
                from++;
            }
            return new String(bytes, from, end - from, StandardCharsets.UTF_8);
        }

        /** Truncated to what Postgres keeps, without splitting a multi-byte character. */
        private static String identifier(byte[] id, int length) {
            if (length > MAX_IDENTIFIER_BYTES) {
                length = MAX_IDENTIFIER_BYTES;
                while (length > 0 && (id[length] & 0xC0) == 0x80) {
                    length--;
                }
            }
            return new String(id, 0, length, StandardCharsets.UTF_8);
        }
    }

    /**
     * One statement's classification. {@code text} is the statement from its first token to its last: no
     * surrounding whitespace or comments (so a trailing -- comment cannot swallow what follows), no ';'.
     */
    public sealed interface Command {
        String text();

        /** Anything else, including what is malformed. */
        record Other(String text) implements Command {}

        /** A session-level SET or RESET of one parameter; {@code name} is the parameter as Postgres names it. */
        record SetParameter(String text, String name) implements Command {}

        /** RESET ALL. (SET SESSION AUTHORIZATION DEFAULT is a {@link SetParameter}, not this.) */
        record ResetAll(String text) implements Command {}

        /**
         * PREPARE name [ ( type [, ...] ) ] AS statement. {@code rest} is everything after the name, verbatim
         * (e.g. "(int, text) AS SELECT $1, $2"), so that the statement can be prepared under another name.
         */
        record Prepare(String text, String name, String rest) implements Command {}

        /** EXECUTE name [ ( arg [, ...] ) ]. {@code rest} is everything after the name, verbatim (may be ""). */
        record Execute(String text, String name, String rest) implements Command {}

        /** DEALLOCATE [ PREPARE ] name */
        record Deallocate(String text, String name) implements Command {}

        /** DEALLOCATE [ PREPARE ] ALL */
        record DeallocateAll(String text) implements Command {}

        /** DISCARD ALL */
        record DiscardAll(String text) implements Command {}
    }
}
