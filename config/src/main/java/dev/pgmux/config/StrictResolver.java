package dev.pgmux.config;

import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Types fewer plain scalars than YAML 1.1 does. Only {@code true}/{@code false}, plain decimal
 * integers and null become non-strings; {@code off}, {@code yes}, {@code 0123}, {@code 0x1F},
 * {@code 1:30} and {@code 1e3} stay text. Otherwise {@code tls.mode: off} would be a boolean and
 * a password such as {@code 0123} or {@code 12:30} would silently become a different number.
 * With this, turning a typed scalar back into text always gives what was written.
 */
final class StrictResolver extends Resolver {

    private static final Pattern BOOL = Pattern.compile("^(?:true|false)$");
    private static final Pattern INT = Pattern.compile("^(?:0|-?[1-9][0-9]*)$");
    private static final Pattern NULL = Pattern.compile("^(?:~|null)$");
    private static final Pattern EMPTY = Pattern.compile("^$");
    private static final Pattern MERGE = Pattern.compile("^(?:<<)$");

    @Override
    protected void addImplicitResolvers() {
        addImplicitResolver(Tag.BOOL, BOOL, "tf");
        addImplicitResolver(Tag.INT, INT, "-0123456789");
        addImplicitResolver(Tag.NULL, NULL, "~n");
        addImplicitResolver(Tag.NULL, EMPTY, null);
        // Keeps "<<: *defaults" working, so tenants can share settings through an anchor.
        addImplicitResolver(Tag.MERGE, MERGE, "<");
    }
}
