package dev.pgmux.proxy.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Locale;

/** Every SHOW table begins with PgBouncer 1.25's columns, names, order and types; pgmux's own follow. */
class ConsoleColumnsTest {

    @ParameterizedTest
    @EnumSource(ShowTable.class)
    void pgbouncersColumnsComeFirst(ShowTable table) {
        List<String> actual = table.columns().stream()
                .map(c -> c.name() + ":" + c.type().name().toLowerCase(Locale.ROOT)).toList();
        if (PgBouncerColumns.PGMUX_ONLY.contains(table.name())) {
            assertThat(table.pgbouncerColumns()).isZero();
            return;
        }
        List<String> expected = PgBouncerColumns.of(table.name());
        assertThat(table.pgbouncerColumns()).isEqualTo(expected.size());
        assertThat(actual.subList(0, expected.size())).containsExactlyElementsOf(expected);
    }

    @Test
    void everyPgBouncerShowHasATable() {
        for (String show : PgBouncerColumns.BY_SHOW.keySet()) {
            assertThat(ShowTable.named(show.toLowerCase(Locale.ROOT))).as(show).isPresent();
        }
        assertThat(ShowTable.values()).hasSize(PgBouncerColumns.BY_SHOW.size() + PgBouncerColumns.PGMUX_ONLY.size());
    }

    @Test
    void typesAreThoseDriversSee() {
        assertThat(ColumnType.TEXT.oid()).isEqualTo(25);
        assertThat(ColumnType.INT4.oid()).isEqualTo(23);
        assertThat(ColumnType.INT8.oid()).isEqualTo(20);
        assertThat(ColumnType.NUMERIC.oid()).isEqualTo(1700);
    }
}
