package dev.pgmux.proxy.prepared;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One statement definition (query text and parameter types) under the server-side name pgmux gave it.
 * Every client that prepares the same definition shares it, whatever name the client uses; the
 * reference count tracks how many client registrations hold it.
 */
public final class StatementDef {
    private final String query;
    private final int[] parameterTypes;
    private final String serverName;
    private final boolean sqlPrepared;
    private final boolean changesSession;
    private final boolean endsTransaction;
    final AtomicInteger references = new AtomicInteger();
    /** {@link #requiredParameters()}, once computed; -1 before. */
    private int requiredParameters = -1;
    /** Bumped when a server reports that this statement's result shape changed (DDL). */
    private final AtomicInteger generation = new AtomicInteger();

    StatementDef(String query, int[] parameterTypes, boolean sqlPrepared, String serverName, boolean changesSession) {
        this.query = query;
        this.parameterTypes = parameterTypes;
        this.sqlPrepared = sqlPrepared;
        this.serverName = serverName;
        this.changesSession = changesSession;
        this.endsTransaction = !sqlPrepared && endsTransaction(query);
    }

    /**
     * Whether it is a statement Postgres still parses and binds in a failed transaction (COMMIT, END,
     * ROLLBACK, ABORT, ROLLBACK TO SAVEPOINT, PREPARE TRANSACTION; not COMMIT/ROLLBACK PREPARED).
     */
    public boolean endsTransaction() {
        return endsTransaction;
    }

    static boolean endsTransaction(String query) {
        int[] at = {0};
        String first = word(query, at);
        String second = word(query, at);
        return switch (first) {
            case "commit", "end", "rollback", "abort" -> !second.equals("prepared");
            case "prepare" -> second.equals("transaction");
            default -> false;
        };
    }

    /** The next keyword at {@code at[0]}, lower case, after whitespace and comments; "" if none. */
    private static String word(String text, int[] at) {
        int i = at[0];
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (text.startsWith("--", i)) {
                int end = text.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (text.startsWith("/*", i)) {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else {
                break;
            }
        }
        int start = i;
        while (i < n && Character.isLetter(text.charAt(i))) {
            i++;
        }
        at[0] = i;
        return text.substring(start, i).toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Made by SQL {@code PREPARE name rest}: {@link #query()} is then the {@code rest} (optional parameter
     * types, AS, the statement), to be re-issued as {@code PREPARE serverName rest}.
     */
    public boolean sqlPrepared() {
        return sqlPrepared;
    }

    /** How many client registrations hold it now. */
    public int references() {
        return Math.max(0, references.get());
    }

    public String query() {
        return query;
    }

    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    /**
     * How many parameters a Bind must supply: the declared types, or the highest {@code $n} in the text
     * (outside quotes and comments), whichever is more.
     */
    public int requiredParameters() {
        int known = requiredParameters;
        if (known < 0) {
            known = countRequiredParameters();
            requiredParameters = known; // racy but idempotent: every thread computes the same value
        }
        return known;
    }

    private int countRequiredParameters() {
        String text = query;
        int highest = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == '\'' || c == '"') {
                int end = text.indexOf(c, i + 1);
                i = end < 0 ? n : end + 1;
            } else if (c == '-' && i + 1 < n && text.charAt(i + 1) == '-') {
                int end = text.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && text.charAt(i + 1) == '*') {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '$' && i + 1 < n && Character.isDigit(text.charAt(i + 1))) {
                int j = i + 1;
                while (j < n && Character.isDigit(text.charAt(j))) {
                    j++;
                }
                highest = Math.max(highest, Integer.parseInt(text.substring(i + 1, Math.min(j, i + 9))));
                i = j;
            } else if (c == '$') {
                int close = text.indexOf('$', i + 1);
                String tag = close < 0 ? null : text.substring(i, close + 1);
                boolean isTag = tag != null && tag.chars().skip(1).limit(tag.length() - 2L)
                        .allMatch(ch -> Character.isLetterOrDigit(ch) || ch == '_');
                if (isTag) {
                    int end = text.indexOf(tag, close + 1);
                    i = end < 0 ? n : end + tag.length();
                } else {
                    i++;
                }
            } else {
                i++;
            }
        }
        return Math.max(highest, parameterTypes.length);
    }

    public int generation() {
        return generation.get();
    }

    /** A server reported a changed result shape to a client that had seen {@code seen}: a new generation. */
    public void planChanged(int seen) {
        generation.compareAndSet(seen, seen + 1);
    }

    /** The name this statement has on every server that holds it. */
    public String serverName() {
        return serverName;
    }

    /**
     * Whether executing it may change the session beyond its transaction: settings (SET, RESET), which pgmux
     * reads back, or pgmux's own statements on the server (a SQL-level PREPARE or DEALLOCATE of such a name).
     */
    public boolean changesSession() {
        return changesSession;
    }

    @Override
    public String toString() {
        return serverName + "[" + Arrays.toString(parameterTypes) + " " + query + "]";
    }
}
