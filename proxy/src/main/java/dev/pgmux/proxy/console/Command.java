package dev.pgmux.proxy.console;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One console command as PgBouncer reads it: a word and an optional argument ({@code SHOW POOLS},
 * {@code PAUSE mydb}, {@code KILL_CLIENT 42}), or {@code SET key = value}; an optional semicolon ends it.
 * A word is letters, digits and {@code _} (pgmux also allows {@code .} and {@code -}, as in its database
 * names {@code db.tenant}) or a double-quoted name. One command per query: PgBouncer refuses more too.
 *
 * @param verb     the command word, lower case ("" for an empty query)
 * @param argument the argument as written, unquoted ("" when none)
 * @param value    the value of a SET, unquoted (null for every other command)
 * @param sql      the query text as the client sent it, for error messages
 */
public record Command(String verb, String argument, String value, String sql) {
    private static final String WORD = "(\"(?:[^\"]|\"\")+\"|[0-9A-Za-z_.-]+)";
    private static final String END = "\\s*(?:;\\s*)?$";
    private static final Pattern NORMAL = Pattern.compile("^\\s*" + WORD + "(?:\\s+" + WORD + ")?" + END);
    private static final Pattern SET = Pattern.compile(
            "^\\s*set\\s+" + WORD + "\\s*(?:=|\\s+to\\s+)\\s*(" + WORD.substring(1, WORD.length() - 1)
                    + "|'(?:[^']|'')*')" + END, Pattern.CASE_INSENSITIVE);
    private static final Pattern EMPTY = Pattern.compile("^[\\s;]*$");

    /** The command in {@code sql}, or null when it is not one the console can read. */
    public static Command parse(String sql) {
        if (EMPTY.matcher(sql).matches()) {
            return new Command("", "", null, sql);
        }
        Matcher set = SET.matcher(sql);
        if (set.matches()) {
            return new Command("set", unquote(set.group(1), '"'), unquote(set.group(2), set.group(2).charAt(0)), sql);
        }
        Matcher normal = NORMAL.matcher(sql);
        if (normal.matches()) {
            String verb = unquote(normal.group(1), '"').toLowerCase(Locale.ROOT);
            return new Command(verb, normal.group(2) == null ? "" : unquote(normal.group(2), '"'), null, sql);
        }
        return null;
    }

    public boolean isEmpty() {
        return verb.isEmpty();
    }

    public boolean hasArgument() {
        return !argument.isEmpty();
    }

    private static String unquote(String word, char quote) {
        if (word.length() >= 2 && word.charAt(0) == quote && word.charAt(word.length() - 1) == quote
                && (quote == '"' || quote == '\'')) {
            String doubled = String.valueOf(quote) + quote;
            return word.substring(1, word.length() - 1).replace(doubled, String.valueOf(quote));
        }
        return word;
    }
}
