package dev.pgmux.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}} and {@code ${VAR:-default}} in a configuration value; {@code $${}
 * stands for a literal {@code ${}. As in the shell, the default applies when the variable is
 * unset or empty. Defaults do not nest. Error messages never quote the value: it may be a
 * password.
 */
final class EnvSubstitution {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private EnvSubstitution() {
    }

    /** @throws IllegalArgumentException with a message fit for a user */
    static String apply(String value, Map<String, String> env) {
        if (!value.contains("${")) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length());
        List<String> missing = new ArrayList<>();
        int i = 0;
        while (i < value.length()) {
            if (value.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (value.startsWith("${", i)) {
                int close = value.indexOf('}', i + 2);
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed ${ (write $${ for a literal ${)");
                }
                String reference = value.substring(i + 2, close);
                int dash = reference.indexOf(":-");
                String name = dash < 0 ? reference : reference.substring(0, dash);
                if (!NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException(
                            "${...} must name an environment variable, like ${DB_PASSWORD} (write $${ for a literal ${)");
                }
                String found = env.get(name);
                if (dash >= 0) {
                    out.append(found == null || found.isEmpty() ? reference.substring(dash + 2) : found);
                } else if (found == null) {
                    missing.add(name);
                } else {
                    out.append(found);
                }
                i = close + 1;
            } else {
                out.append(value.charAt(i));
                i++;
            }
        }
        if (missing.size() == 1) {
            throw new IllegalArgumentException("environment variable " + missing.getFirst() + " is not set");
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("environment variables " + String.join(", ", missing) + " are not set");
        }
        return out.toString();
    }
}
