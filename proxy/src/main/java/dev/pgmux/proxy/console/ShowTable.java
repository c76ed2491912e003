package dev.pgmux.proxy.console;

import static dev.pgmux.proxy.console.Column.int4;
import static dev.pgmux.proxy.console.Column.numeric;
import static dev.pgmux.proxy.console.Column.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The columns of every SHOW, in one place: PgBouncer 1.25's names, order and types first (text, int4,
 * numeric; its timestamps are text), then any column of pgmux's own. SHOW PREPARED_STATEMENTS and SHOW
 * TENANTS are pgmux's alone.
 */
public enum ShowTable {
    POOLS(17, text("database"), text("user"), int4("cl_active"), int4("cl_waiting"), int4("cl_active_cancel_req"),
            int4("cl_waiting_cancel_req"), int4("sv_active"), int4("sv_active_cancel"), int4("sv_being_canceled"),
            int4("sv_idle"), int4("sv_used"), int4("sv_tested"), int4("sv_login"), int4("maxwait"),
            int4("maxwait_us"), text("pool_mode"), text("load_balance_hosts"),
            text("tenant")),
    CLIENTS(21, socketColumns(text("tenant"), text("pool_mode"))),
    SERVERS(21, socketColumns(text("tenant"))),
    STATS(23, text("database"), numeric("total_server_assignment_count"), numeric("total_xact_count"),
            numeric("total_query_count"), numeric("total_received"), numeric("total_sent"),
            numeric("total_xact_time"), numeric("total_query_time"), numeric("total_wait_time"),
            numeric("total_client_parse_count"), numeric("total_server_parse_count"), numeric("total_bind_count"),
            numeric("avg_server_assignment_count"), numeric("avg_xact_count"), numeric("avg_query_count"),
            numeric("avg_recv"), numeric("avg_sent"), numeric("avg_xact_time"), numeric("avg_query_time"),
            numeric("avg_wait_time"), numeric("avg_client_parse_count"), numeric("avg_server_parse_count"),
            numeric("avg_bind_count")),
    STATS_TOTALS(12, text("database"), numeric("server_assignment_count"), numeric("xact_count"),
            numeric("query_count"), numeric("bytes_received"), numeric("bytes_sent"), numeric("xact_time"),
            numeric("query_time"), numeric("wait_time"), numeric("client_parse_count"),
            numeric("server_parse_count"), numeric("bind_count")),
    STATS_AVERAGES(12, text("database"), numeric("server_assignment_count"), numeric("xact_count"),
            numeric("query_count"), numeric("bytes_received"), numeric("bytes_sent"), numeric("xact_time"),
            numeric("query_time"), numeric("wait_time"), numeric("avg_client_parse_count"),
            numeric("avg_server_parse_count"), numeric("avg_bind_count")),
    DATABASES(17, text("name"), text("host"), int4("port"), text("database"), text("force_user"),
            int4("pool_size"), int4("min_pool_size"), int4("reserve_pool_size"), int4("server_lifetime"),
            text("pool_mode"), text("load_balance_hosts"), int4("max_connections"), int4("current_connections"),
            int4("max_client_connections"), int4("current_client_connections"), int4("paused"), int4("disabled"),
            text("tenant")),
    USERS(8, text("name"), text("pool_size"), text("reserve_pool_size"), text("pool_mode"),
            int4("max_user_connections"), int4("current_connections"), int4("max_user_client_connections"),
            int4("current_client_connections")),
    CONFIG(4, text("key"), text("value"), text("default"), text("changeable")),
    LISTS(2, text("list"), int4("items")),
    PEERS(4, int4("peer_id"), text("host"), int4("port"), int4("pool_size")),
    VERSION(1, text("version")),
    STATE(2, text("key"), text("value")),
    PREPARED_STATEMENTS(0, text("name"), text("parameter_types"), int4("clients"), text("query")),
    TENANTS(0, text("id"), text("host"), int4("port"), text("database"), text("databases"), int4("pool_size"),
            int4("min_idle"), int4("max_clients"), int4("current_clients"), int4("users"), int4("pools"),
            text("prepared_statements"));

    private final int pgbouncerColumns;
    private final List<Column> columns;

    ShowTable(int pgbouncerColumns, Column... columns) {
        this.pgbouncerColumns = pgbouncerColumns;
        this.columns = List.of(columns);
    }

    /** SHOW CLIENTS and SHOW SERVERS share PgBouncer's socket columns; pgmux's own follow. */
    private static Column[] socketColumns(Column... own) {
        List<Column> all = new ArrayList<>(List.of(text("type"), text("user"), text("database"), text("replication"),
                text("state"), text("addr"), int4("port"), text("local_addr"), int4("local_port"),
                text("connect_time"), text("request_time"), int4("wait"), int4("wait_us"), int4("close_needed"),
                text("ptr"), text("link"), int4("remote_pid"), text("tls"), text("application_name"),
                int4("prepared_statements"), int4("id")));
        all.addAll(List.of(own));
        return all.toArray(Column[]::new);
    }

    public List<Column> columns() {
        return columns;
    }

    /** How many of the columns, from the first, are PgBouncer's (0 for a SHOW of pgmux's own). */
    public int pgbouncerColumns() {
        return pgbouncerColumns;
    }

    /** The table a SHOW names (any case), if it is one. */
    public static Optional<ShowTable> named(String name) {
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
