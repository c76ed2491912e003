package dev.pgmux.loadtest.scenarios;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the {@code orm} scenario talks to Postgres: a {@code PreparedStatement} per execution with typed
 * parameters (pgjdbc, run with {@code prepareThreshold=0}, sends each as an unnamed Parse, Bind and Execute), every
 * row read; and the checks that turn a wrong answer into a failed request.
 */
final class OrmSql {
    private OrmSql() {}

    /** Every row of the statement's result, each as its columns' {@code getObject} values. */
    static List<List<Object>> rows(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(c, ps, params);
            List<List<Object>> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<Object> row = new ArrayList<>(columns);
                    for (int i = 1; i <= columns; i++) {
                        row.add(rs.getObject(i));
                    }
                    rows.add(row);
                }
            }
            return rows;
        }
    }

    /** The number of rows an {@code UPDATE} or {@code INSERT} without {@code RETURNING} changed. */
    static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(c, ps, params);
            return ps.executeUpdate();
        }
    }

    /** An {@code int[]} parameter, as ORMs send {@code = ANY(?)}. */
    record IntArray(List<Integer> values) {
    }

    private static void bind(Connection c, PreparedStatement ps, Object[] params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            if (params[i] instanceof IntArray a) {
                Array array = c.createArrayOf("int4", a.values().toArray());
                ps.setArray(i + 1, array);
            } else {
                ps.setObject(i + 1, params[i]); // Integer int4, Long int8, String varchar, BigDecimal numeric, LocalDateTime timestamp
            }
        }
    }

    static void expect(boolean holds, String what) throws WrongResultException {
        if (!holds) {
            throw new WrongResultException(what);
        }
    }

    static void expectRows(List<List<Object>> rows, int expected) throws WrongResultException {
        if (rows.size() != expected) {
            throw new WrongResultException("expected " + expected + " row" + (expected == 1 ? "" : "s") + ", got " + rows.size());
        }
    }

    static void expectCount(int changed, int expected) throws WrongResultException {
        if (changed != expected) {
            throw new WrongResultException("expected " + expected + " row(s) changed, got " + changed);
        }
    }

    /** Column {@code column} (from 1) of {@code row} as a long; a null or a non-number is a wrong result. */
    static long longAt(List<Object> row, int column, String what) throws WrongResultException {
        Object v = row.get(column - 1);
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new WrongResultException(what + " is " + (v == null ? "null" : "not a number"));
    }

    static void expectEqual(Object actual, Object expected, String what) throws WrongResultException {
        if (!Objects.equals(actual, expected)) {
            throw new WrongResultException(what + " is not the one the schema implies");
        }
    }
}
