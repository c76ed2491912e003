package dev.pgmux.proxy.console;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What a console command answers. */
public sealed interface Result {
    /** Rows under columns, then CommandComplete with {@code tag} ("SHOW"). */
    record Rows(List<Column> columns, List<List<Object>> rows, String tag) implements Result {
        public Rows {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
        }

        static Rows of(ShowTable table, List<List<Object>> rows) {
            return new Rows(table.columns(), rows, "SHOW");
        }
    }

    /** No rows: CommandComplete with {@code tag}, after a notice when {@code notice} is not null. */
    record Done(String tag, Notice notice) implements Result {
        static Done of(String tag) {
            return new Done(tag, null);
        }
    }

    /** A NoticeResponse: severity NOTICE unless said otherwise, a message and an optional detail. */
    record Notice(String message, String detail) {}

    /** An ERROR (the connection stays open), with the SQLSTATE it belongs to. */
    record Failed(String sqlState, String message) implements Result {}

    /** Answered later (PAUSE and WAIT_CLOSE wait for servers to close); nothing else is read meanwhile. */
    record Later(CompletableFuture<Result> result) implements Result {}

    /** The connection ends: the process is shutting down now (SHUTDOWN), nothing is answered. */
    record Closing() implements Result {}
}
