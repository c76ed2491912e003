package dev.pgmux.proxy.transaction;

/**
 * The parts of Postgres' SQL lexer that decide where a statement starts: whitespace, comments, and
 * the tokens a ';' can hide in (string literals, quoted identifiers, dollar quotes). Works on UTF-8
 * bytes in an array, with plain loops the JIT compiles to tight code: {@link SqlCommands#mayNeedAnalysis}
 * runs it on every query a client sends. Both of {@link SqlCommands}' entry points use it, so they agree
 * on where statements start.
 */
final class SqlLexer {
    private SqlLexer() {}

    /** Skips whitespace, {@code --} comments and nested block comments; end + 1 if a block comment is not closed. */
    static int skipSpaceAndComments(byte[] b, int i, int end) {
        while (i < end) {
            byte c = b[i];
            if (isSpace(c)) {
                i++;
            } else if (c == '-' && i + 1 < end && b[i + 1] == '-') {
                i += 2;
                while (i < end && b[i] != '\n' && b[i] != '\r') {
                    i++;
                }
            } else if (c == '/' && i + 1 < end && b[i + 1] == '*') {
                int depth = 0;
                while (true) {
                    if (i + 1 >= end) {
                        return end + 1;
                    }
                    byte x = b[i];
                    byte y = b[i + 1];
                    if (x == '/' && y == '*') {
                        depth++;
                        i += 2;
                    } else if (x == '*' && y == '/') {
                        i += 2;
                        if (--depth == 0) {
                            break;
                        }
                    } else {
                        i++;
                    }
                }
            } else {
                break;
            }
        }
        return i;
    }

    /**
     * Returns the end of the token at {@code i} (not whitespace, not a comment start), or end + 1 when
     * it is a literal or quoted identifier that is not closed. Operators and punctuation are one byte each.
     */
    static int skipToken(byte[] b, int i, int end) {
        byte c = b[i];
        if (c == '\'' || c == '"') {
            return skipQuoted(b, i, end, c, false);
        }
        if (c == '$') {
            return skipDollar(b, i, end);
        }
        if (isDigit(c)) {
            // Digits only, so 1e'..' is 1 then an E'' string as older Postgres reads it (15 and later reject it).
            do {
                i++;
            } while (i < end && isDigit(b[i]));
            return i;
        }
        if (!isIdentStart(c)) {
            return i + 1;
        }
        int j = i + 1;
        while (j < end && isIdentCont(b[j])) {
            j++;
        }
        // A lone E before a quote starts the one string form where backslash escapes; xe'..' is a name then a string.
        if (j == i + 1 && (c | 0x20) == 'e' && j < end && b[j] == '\'') {
            return skipQuoted(b, j, end, (byte) '\'', true);
        }
        return j;
    }

    /** A '...' string or "..." identifier at {@code i}; a doubled quote stands for itself. */
    private static int skipQuoted(byte[] b, int i, int end, byte quote, boolean backslashEscapes) {
        for (i++; i < end; i++) {
            byte c = b[i];
            if (backslashEscapes && c == '\\') {
                i++;
            } else if (c == quote) {
                if (i + 1 < end && b[i + 1] == quote) {
                    i++;
                } else {
                    return i + 1;
                }
            }
        }
        return end + 1;
    }

    /** At a '$': a $1 parameter, a $tag$...$tag$ string (the tag may be empty), or a lone '$'. */
    private static int skipDollar(byte[] b, int i, int end) {
        int j = i + 1;
        if (j < end && isDigit(b[j])) {
            while (j < end && isDigit(b[j])) {
                j++;
            }
            return j;
        }
        if (j < end && isIdentStart(b[j])) {
            j++;
            while (j < end && (isIdentStart(b[j]) || isDigit(b[j]))) {
                j++; // unlike in names, '$' cannot appear in a tag
            }
        }
        if (j >= end || b[j] != '$') {
            return i + 1;
        }
        int tagLength = j + 1 - i;
        for (int k = indexOf(b, j + 1, end, (byte) '$'); k >= 0 && k + tagLength <= end;
                k = indexOf(b, k + 1, end, (byte) '$')) {
            if (sameBytes(b, i, k, tagLength)) {
                return k + tagLength;
            }
        }
        return end + 1;
    }

    /** The index of the first {@code value} in {@code b[from, end)}, or -1. */
    static int indexOf(byte[] b, int from, int end, byte value) {
        for (int i = from; i < end; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    private static boolean sameBytes(byte[] b, int x, int y, int length) {
        for (int k = 0; k < length; k++) {
            if (b[x + k] != b[y + k]) {
                return false;
            }
        }
        return true;
    }

    static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
    }

    static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** Letters, '_' and any byte of a multi-byte UTF-8 character, as in Postgres' ident_start. */
    static boolean isIdentStart(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c < 0;
    }

    static boolean isIdentCont(byte c) {
        return isIdentStart(c) || isDigit(c) || c == '$';
    }
}
