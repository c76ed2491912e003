package dev.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;

/**
 * Reads the comma-separated {@code name=value} attributes of a SCRAM message (RFC 5802 section
 * 7). The message is held as ISO-8859-1 text so that every byte maps to exactly one char and the
 * original bytes can be rebuilt for the AuthMessage; anything outside printable ASCII where the
 * grammar wants it is rejected by the checks of the callers.
 *
 * <p>Error messages name attributes and single characters only, never attribute values.
 */
final class ScramParser {

    /** One attribute; {@code start} is the index of its name in the message. */
    record Attribute(char name, String value, int start) {
    }

    private final String text;
    private int pos;
    /** True after a "," was consumed: another attribute must follow. */
    private boolean afterComma;

    ScramParser(String text) {
        this.text = text;
    }

    static ScramParser of(byte[] message) {
        return new ScramParser(new String(message, StandardCharsets.ISO_8859_1));
    }

    String text() {
        return text;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= text.length();
    }

    /** The next char, or 0 at the end of the message. */
    char peek() {
        return atEnd() ? 0 : text.charAt(pos);
    }

    /** Reads attribute {@code name} and returns its value. */
    String expect(char name) throws ScramException {
        if (atEnd()) {
            throw ScramException.malformed("attribute \"" + name + "\" expected, but found end of message");
        }
        char c = text.charAt(pos);
        if (c != name) {
            throw ScramException.malformed("attribute \"" + name + "\" expected, but found " + describe(c));
        }
        pos++;
        if (atEnd() || text.charAt(pos) != '=') {
            throw ScramException.malformed("expected character \"=\" after attribute \"" + name + "\"");
        }
        pos++;
        return value();
    }

    /** Reads any attribute (an extension, or the proof). */
    Attribute any() throws ScramException {
        if (atEnd()) {
            throw ScramException.malformed("attribute expected, but found end of message");
        }
        int start = pos;
        char c = text.charAt(pos);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            throw ScramException.malformed("attribute expected, but found invalid character " + describe(c));
        }
        pos++;
        if (atEnd() || text.charAt(pos) != '=') {
            throw ScramException.malformed("expected character \"=\" after attribute \"" + c + "\"");
        }
        pos++;
        return new Attribute(c, value(), start);
    }

    /** Checks that the whole message was read. */
    void expectEnd(String messageName) throws ScramException {
        if (!atEnd()) {
            throw ScramException.malformed("garbage at the end of " + messageName);
        }
        if (afterComma) {
            throw ScramException.malformed("attribute expected after \",\" at the end of " + messageName);
        }
    }

    private String value() {
        int end = text.indexOf(',', pos);
        String value;
        if (end < 0) {
            value = text.substring(pos);
            pos = text.length();
            afterComma = false;
        } else {
            value = text.substring(pos, end);
            pos = end + 1;
            afterComma = true;
        }
        return value;
    }

    /** A single character for an error message: quoted when printable, else as a hex byte. */
    static String describe(char c) {
        if (c >= 0x21 && c <= 0x7E) {
            return "\"" + c + "\"";
        }
        return String.format("0x%02x", (int) c);
    }
}
