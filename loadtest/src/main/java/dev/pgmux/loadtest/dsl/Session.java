package dev.pgmux.loadtest.dsl;

import java.util.HashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/** One virtual user's state: its number, its scenario and the attributes its steps and feeders set. */
public final class Session {
    private final long userId;
    private final String scenario;
    private final Map<String, Object> attributes = new HashMap<>();

    public Session(long userId, String scenario) {
        this.userId = userId;
        this.scenario = scenario;
    }

    /** The user's number, from 0, unique in the run. */
    public long userId() {
        return userId;
    }

    public String scenario() {
        return scenario;
    }

    public Session set(String name, Object value) {
        attributes.put(name, value);
        return this;
    }

    public Session setAll(Map<String, ?> values) {
        attributes.putAll(values);
        return this;
    }

    public boolean contains(String name) {
        return attributes.containsKey(name);
    }

    public Object get(String name) {
        Object v = attributes.get(name);
        if (v == null && !attributes.containsKey(name)) {
            throw new NoSuchElementException("no session attribute \"" + name + "\" (set by a feeder, saveAs or exec)");
        }
        return v;
    }

    public int getInt(String name) {
        Object v = get(name);
        return v instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(v));
    }

    public long getLong(String name) {
        Object v = get(name);
        return v instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(v));
    }

    public String getString(String name) {
        return String.valueOf(get(name));
    }

    @Override
    public String toString() {
        return "Session[user " + userId + ", " + scenario + ", " + attributes + "]";
    }
}
