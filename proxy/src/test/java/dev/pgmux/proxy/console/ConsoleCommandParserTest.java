package dev.pgmux.proxy.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The console reads commands as PgBouncer does: a word, an optional argument, an optional semicolon. */
class ConsoleCommandParserTest {

    @Test
    void aWordAndAnArgument() {
        assertThat(Command.parse("SHOW POOLS;")).isEqualTo(new Command("show", "POOLS", null, "SHOW POOLS;"));
        assertThat(Command.parse("  show   clients  ")).extracting(Command::verb, Command::argument)
                .containsExactly("show", "clients");
        assertThat(Command.parse("pause postgres.acme ;\n")).extracting(Command::verb, Command::argument)
                .containsExactly("pause", "postgres.acme");
        assertThat(Command.parse("RESUME \"my db.acme\"")).extracting(Command::argument).isEqualTo("my db.acme");
        assertThat(Command.parse("KILL_CLIENT 42")).extracting(Command::verb, Command::argument)
                .containsExactly("kill_client", "42");
        assertThat(Command.parse("RELOAD")).extracting(Command::verb, Command::hasArgument)
                .containsExactly("reload", false);
    }

    @Test
    void setWithAWordOrAQuotedValue() {
        assertThat(Command.parse("SET extra_float_digits = 3")).extracting(Command::verb, Command::argument,
                Command::value).containsExactly("set", "extra_float_digits", "3");
        assertThat(Command.parse("set application_name to 'it''s me';")).extracting(Command::argument,
                Command::value).containsExactly("application_name", "it's me");
    }

    @Test
    void emptyQueries() {
        assertThat(Command.parse("").isEmpty()).isTrue();
        assertThat(Command.parse(" ; ").isEmpty()).isTrue();
    }

    @Test
    void whatIsNotOneCommandIsNothing() {
        assertThat(Command.parse("SHOW POOLS; SHOW CLIENTS")).isNull();
        assertThat(Command.parse("SELECT * FROM pools")).isNull();
        assertThat(Command.parse("SHOW 'pools'")).isNull();
    }
}
