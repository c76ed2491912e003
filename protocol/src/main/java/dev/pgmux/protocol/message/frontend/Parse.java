package dev.pgmux.protocol.message.frontend;

import java.util.Arrays;

/** Parse ('P'): prepare {@code query} as statement {@code name} ("" is the unnamed statement). */
public record Parse(String name, String query, int[] parameterTypes) implements FrontendMessage {
    public static final byte TAG = 'P';

    public Parse {
        parameterTypes = parameterTypes.clone();
    }

    @Override
    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Parse p && name.equals(p.name) && query.equals(p.query)
                && Arrays.equals(parameterTypes, p.parameterTypes);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + query.hashCode()) * 31 + Arrays.hashCode(parameterTypes);
    }

    @Override
    public String toString() {
        return "Parse[name=" + name + ", query=" + query + ", parameterTypes=" + Arrays.toString(parameterTypes) + "]";
    }
}
