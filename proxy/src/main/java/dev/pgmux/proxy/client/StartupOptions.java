package dev.pgmux.proxy.client;

import dev.pgmux.protocol.frame.ProtocolException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses the {@code options} startup parameter the way Postgres does for settings:
 * {@code -c name=value} and {@code --name=value}, separated by spaces, with {@code \} escaping a space.
 */
final class StartupOptions {
    private StartupOptions() {}

    static Map<String, String> parse(String options) {
        Map<String, String> settings = new LinkedHashMap<>();
        var words = split(options);
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            String setting;
            if (word.equals("-c")) {
                if (i + 1 >= words.size()) {
                    throw new ProtocolException("invalid startup options: -c requires a value");
                }
                setting = words.get(++i);
            } else if (word.startsWith("-c")) {
                setting = word.substring(2);
            } else if (word.startsWith("--")) {
                setting = word.substring(2);
            } else {
                throw new ProtocolException(dev.pgmux.protocol.SqlState.FEATURE_NOT_SUPPORTED,
                        "unsupported startup option \"" + word + "\": only -c name=value and --name=value are supported");
            }
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new ProtocolException("invalid startup option \"" + setting + "\": expected name=value");
            }
            settings.put(setting.substring(0, eq).replace('-', '_'), setting.substring(eq + 1));
        }
        return settings;
    }

    private static java.util.List<String> split(String options) {
        var words = new java.util.ArrayList<String>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                word.append(options.charAt(++i));
            } else if (Character.isWhitespace(c)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }
}
