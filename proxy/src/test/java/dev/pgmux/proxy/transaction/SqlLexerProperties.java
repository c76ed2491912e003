package dev.pgmux.proxy.transaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The SQL lexer on generated text: SQL assembled from the pieces that decide where statements start (quotes,
 * dollar quotes, comments, semicolons, the keywords pgmux acts on) and arbitrary text. It never throws, and
 * the byte-level pre-check that spares most queries a String never says "nothing to analyse" for a query in
 * which the full analysis finds a command pgmux must act on: that would let a SET or PREPARE slip by.
 */
class SqlLexerProperties {

    @Provide
    Arbitrary<String> sql() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of("SET ", "set ", "RESET ", "reset ", "PREPARE ", "EXECUTE ", "DEALLOCATE ", "DISCARD ALL",
                        "deallocate all", "SELECT ", "statement_timeout", " = ", "TO ", "'5s'", "p1", " AS ", "ALL", "LOCAL ",
                        "SESSION ", "search_path", "(int)", "; ", ";", " ", "\n", "\t", "--", "/*", "*/", "'", "''", "\"",
                        "$$", "$tag$", "E'\\'", "\\", "1", "x"),
                Arbitraries.strings().ofMaxLength(6));
        return piece.list().ofMaxSize(25).map(parts -> String.join("", parts));
    }

    @Property
    void analysisNeverThrowsAndThePreCheckMissesNothingItFinds(@ForAll("sql") String sql) {
        List<SqlCommands.Command> commands = SqlCommands.analyze(sql);
        boolean actionable = commands.stream().anyMatch(c -> !(c instanceof SqlCommands.Command.Other));
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            boolean preCheck = SqlCommands.mayNeedAnalysis(buf, 0, bytes.length);
            if (actionable) {
                assertThat(preCheck).as("pre-check for %s, which holds %s", sql, commands).isTrue();
            }
        } finally {
            buf.release();
        }
        SessionChanges.of(commands); // never throws either
    }

    @Property
    void arbitraryTextNeverThrows(@ForAll String text) {
        SqlCommands.analyze(text);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            SqlCommands.mayNeedAnalysis(buf, 0, bytes.length);
        } finally {
            buf.release();
        }
    }
}
