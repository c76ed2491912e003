package dev.pgmux.proxy.console;

/** A column of a console result: its name and type, as the client's RowDescription shows them. */
public record Column(String name, ColumnType type) {
    static Column text(String name) {
        return new Column(name, ColumnType.TEXT);
    }

    static Column int4(String name) {
        return new Column(name, ColumnType.INT4);
    }

    static Column int8(String name) {
        return new Column(name, ColumnType.INT8);
    }

    static Column numeric(String name) {
        return new Column(name, ColumnType.NUMERIC);
    }
}
